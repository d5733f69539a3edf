module github.com/sendivent/sendivent-go/examples/typed

go 1.23.0

replace (
	github.com/sendivent/sendivent-go => ../..
	github.com/sendivent/sendivent-go/cmd/sendivent => ../../cmd/sendivent
	github.com/sendivent/sendivent-go/templates => ../../templates
)

require (
	github.com/sendivent/sendivent-go v0.3.0
	github.com/sendivent/sendivent-go/cmd/sendivent v0.3.0
	github.com/sendivent/sendivent-go/templates v0.3.0
)

require (
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/mailgun/raymond/v2 v2.0.48 // indirect
	github.com/sirupsen/logrus v1.8.1 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	golang.org/x/sys v0.26.0 // indirect
	golang.org/x/time v0.12.0 // indirect
)
