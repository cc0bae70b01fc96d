package postclient

// Callers says which app ids may call each of post.v1's methods through
// Dapr. The post app enforces it on every profile (from the caller id the
// calling sidecar appends), and the Kubernetes access-control policies in
// components/k8s say the same with mTLS identities; e2e/deploy checks that
// they agree. A method not listed may not be called through Dapr at all.
func Callers() map[string][]string {
	return map[string][]string{
		"/post.v1.PostService/GetPost":  {"comment", "thumbnailer"},
		"/post.v1.PostService/GetPosts": {"search"},
		// Progress reports come only from the workers.
		"/post.v1.PostService/MarkThumbnailReady": {"thumbnailer"},
		"/post.v1.PostService/MarkFailed":         {"thumbnailer"},
		"/post.v1.PostService/MarkIndexed":        {"indexer"},
		"/post.v1.PostService/ListPosts":          {"indexer"},
	}
}
