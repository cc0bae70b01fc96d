// Package runfile reads a Dapr multi-app run file (the format of `dapr run -f`)
// and turns it into one fully merged description per app, following the
// Dapr CLI's own rules so that the launcher and the CLI run the same file the
// same way.
package runfile

// File is the top level of a run file.
type File struct {
	Version int    `yaml:"version"`
	Name    string `yaml:"name"`
	Common  Shared `yaml:"common"`
	Apps    []App  `yaml:"apps"`
}

// Shared holds the fields the `common` section may set for every app. The Dapr
// CLI copies a common value into an app only where the app leaves that field
// at its zero value; fields outside this struct (ports, appID, command…) are
// per app and ignored in `common`, by the CLI and therefore here too.
//
// The field names are those of the Dapr CLI 1.14 (pkg/standalone.RunConfig,
// the CLI released with daprd 1.14), plus the two body and buffer sizes the
// CLI renamed in 1.15 (maxBodySize, readBufferSize), so that a run file may
// carry both spellings and mean the same to either CLI.
type Shared struct {
	ConfigFile         string   `yaml:"configFilePath"`
	AppProtocol        string   `yaml:"appProtocol"`
	APIListenAddresses string   `yaml:"apiListenAddresses"`
	EnableProfiling    bool     `yaml:"enableProfiling"`
	LogLevel           string   `yaml:"logLevel"`
	MaxConcurrency     int      `yaml:"appMaxConcurrency"`
	PlacementHostAddr  *string  `yaml:"placementHostAddress"`
	ResourcesPath      string   `yaml:"resourcesPath"`
	ResourcesPaths     []string `yaml:"resourcesPaths"`
	// Dapr CLI 1.14: megabytes and kilobytes, passed as daprd's deprecated
	// --dapr-http-max-request-size and --dapr-http-read-buffer-size.
	MaxRequestSizeMB int `yaml:"daprHTTPMaxRequestSize"`
	ReadBufferSizeKB int `yaml:"daprHTTPReadBufferSize"`
	// Dapr CLI 1.15 and later: resource quantities (32Mi), passed as
	// --max-body-size and --read-buffer-size, which daprd prefers when both
	// spellings are given.
	MaxBodySize        string            `yaml:"maxBodySize"`
	ReadBufferSize     string            `yaml:"readBufferSize"`
	EnableAppHealth    bool              `yaml:"enableAppHealthCheck"`
	AppHealthPath      string            `yaml:"appHealthCheckPath"`
	AppHealthInterval  int               `yaml:"appHealthProbeInterval"`
	AppHealthTimeout   int               `yaml:"appHealthProbeTimeout"`
	AppHealthThreshold int               `yaml:"appHealthThreshold"`
	EnableAPILogging   bool              `yaml:"enableApiLogging"`
	Env                map[string]string `yaml:"env"`

	// Accepted so that files written for the CLI parse without warnings, but
	// unused: the launcher finds daprd itself and always logs to the console.
	AppSSL              bool    `yaml:"appSSL"`
	DaprdInstallPath    string  `yaml:"runtimePath"`
	DaprdLogDestination string  `yaml:"daprdLogDestination"`
	AppLogDestination   string  `yaml:"appLogDestination"`
	SchedulerHostAddr   *string `yaml:"schedulerHostAddress"`
}

// App is one entry of `apps`. After Load it carries the merged configuration:
// common values filled in, defaults applied and every path absolute.
type App struct {
	Shared            `yaml:",inline"`
	AppID             string   `yaml:"appID"`
	AppDirPath        string   `yaml:"appDirPath"`
	Command           []string `yaml:"command"`
	AppPort           int      `yaml:"appPort"`
	AppChannelAddress string   `yaml:"appChannelAddress"`
	HTTPPort          int      `yaml:"daprHTTPPort"`
	GRPCPort          int      `yaml:"daprGRPCPort"`
	InternalGRPCPort  int      `yaml:"daprInternalGRPCPort"`
	MetricsPort       int      `yaml:"metricsPort"`
	ProfilePort       int      `yaml:"profilePort"`
	UnixDomainSocket  string   `yaml:"unixDomainSocket"`

	// Name tells replicas of one app id apart (the launcher's -replicas):
	// "post-2" is the second replica of "post". Empty for the first.
	Name string `yaml:"-"`
}

// Instance is the app's name in logs and reports: Name, or the app id.
func (a App) Instance() string {
	if a.Name != "" {
		return a.Name
	}
	return a.AppID
}

// DefaultAppProtocol is what the Dapr CLI applies (its `default` struct tag)
// when appProtocol is still empty after merging. The CLI's other defaults
// are daprd's own (4 MiB bodies, 4 KiB read buffer, no concurrency limit),
// so leaving those flags out means the same.
const DefaultAppProtocol = "http"
