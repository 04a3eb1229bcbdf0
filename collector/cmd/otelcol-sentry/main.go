// Command otelcol-sentry is an OpenTelemetry Collector with the components
// a tier in front of Sentry needs: the OTLP receiver, the batch,
// memory-limiter and probabilistic-sampler processors, and the OTLP/HTTP
// exporter. It is assembled in code the way the Collector's builder
// generates a distribution, from the released components, and runs the
// Collector's own command line:
//
//	otelcol-sentry --config ../../config.yaml
//
// The configuration recommended for Sentry is config.yaml at the root of
// this module; it also runs unchanged in the Collector's contrib
// distribution, which has the same components.
package main

import (
	"fmt"
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// The releases the components come from; go.mod requires the same.
const (
	coreVersion    = "v0.165.0"
	contribVersion = "v0.165.1"
)

func main() {
	if err := otelcol.NewCommand(settings()).Execute(); err != nil {
		// The command has already printed the error.
		fmt.Fprintln(os.Stderr, "otelcol-sentry: exiting")
		os.Exit(1)
	}
}

// settings describes the distribution: its name, components and the
// configuration sources it resolves (files, environment variables and
// inline YAML, the last for --set).
func settings() otelcol.CollectorSettings {
	providers := []confmap.ProviderFactory{
		envprovider.NewFactory(),
		fileprovider.NewFactory(),
		yamlprovider.NewFactory(),
	}
	modules := map[string]string{}
	for _, p := range []struct {
		factory confmap.ProviderFactory
		module  string
	}{
		{providers[0], "go.opentelemetry.io/collector/confmap/provider/envprovider"},
		{providers[1], "go.opentelemetry.io/collector/confmap/provider/fileprovider"},
		{providers[2], "go.opentelemetry.io/collector/confmap/provider/yamlprovider"},
	} {
		modules[p.factory.Create(confmap.ProviderSettings{}).Scheme()] = p.module + " " + confmapVersion
	}
	return otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol-sentry",
			Description: "OpenTelemetry Collector for a tier in front of Sentry",
			Version:     coreVersion,
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{ProviderFactories: providers},
		},
		ProviderModules: modules,
	}
}

// confmapVersion is the release of the configuration providers, which
// the Collector versions apart from its components.
const confmapVersion = "v1.71.0"
