module pixshare/contracts

go 1.26.0

require (
	go.uber.org/fx v1.24.0
	go.uber.org/zap v1.28.0
	golang.org/x/image v0.48.0
	google.golang.org/grpc v1.77.0
	pixshare/platform v0.0.0-00010101000000-000000000000
	pixshare/proto v0.0.0-00010101000000-000000000000
)

require (
	github.com/caarlos0/env/v11 v11.4.2 // indirect
	github.com/dapr/dapr v1.14.0 // indirect
	github.com/dapr/go-sdk v1.11.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	github.com/kr/pretty v0.3.1 // indirect
	github.com/rs/cors v1.11.1 // indirect
	go.opentelemetry.io/otel v1.38.0 // indirect
	go.uber.org/dig v1.19.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20251022142026-3a174f9686a8 // indirect
	google.golang.org/protobuf v1.36.10 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace (
	pixshare/platform => ../platform
	pixshare/proto => ../proto
)
