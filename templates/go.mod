module github.com/sendivent/sendivent-go/templates

go 1.23.0

require (
	github.com/mailgun/raymond/v2 v2.0.48
	github.com/sendivent/sendivent-go v0.3.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/sirupsen/logrus v1.8.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.20.0 // indirect
	golang.org/x/time v0.12.0 // indirect
)
