package userclient

// Callers says which app ids may call each of user.v1's methods through
// Dapr: the services authenticate their callers and ask the graph and the
// authors' profiles; only the thumbnailer reports avatars. The user app
// enforces it on every profile and components/k8s says the same with mTLS
// identities; e2e/deploy checks that they agree. A method not listed may
// not be called through Dapr at all.
func Callers() map[string][]string {
	services := []string{"comment", "post", "search"}
	return map[string][]string{
		"/user.v1.AuthService/Authenticate":       services,
		"/user.v1.GraphService/ListFollowing":     services,
		"/user.v1.GraphService/ListBlocked":       services,
		"/user.v1.GraphService/IsBlocked":         services,
		"/user.v1.ProfileService/GetProfiles":     services,
		"/user.v1.AvatarService/MarkAvatarReady":  {"thumbnailer"},
		"/user.v1.AvatarService/MarkAvatarFailed": {"thumbnailer"},
	}
}
