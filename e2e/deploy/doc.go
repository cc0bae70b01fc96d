// Package deploy holds the validation tests of Pixshare's operations files:
// docker-compose.yml, deploy/docker/Dockerfile, the Dapr resource profiles
// under components/ and the Kubernetes manifests under deploy/k8s. They need
// no Docker engine and no cluster: every file is decoded into the types of
// the tools that consume it (compose-go's loader, Dapr's API types,
// client-go's scheme) and checked against the facts in expect_test.go.
package deploy
