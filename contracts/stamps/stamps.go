// Package stamps names the subjects whose stamps (platform/cache) make
// every cached copy of safety and privacy state coherent across services
// and replicas. The owner of a subject replaces its stamp with every change
// (cache.StampStore.Change); everyone else checks copies against it.
package stamps

// User is the subject of everything another service may cache about a
// user: whether their tokens are valid (password change, logout, deletion,
// suspension), whom they follow and block, and their public profile
// (name, avatar). The user service replaces it on any such change; a block
// or unblock replaces both users' stamps, so either one covers a pair.
func User(id string) string { return "user:" + id }

// Post is the subject of what another service may cache about a post:
// that it exists, and who wrote it. The post service replaces it when the
// post is deleted.
func Post(id string) string { return "post:" + id }
