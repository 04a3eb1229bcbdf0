// Package dsn parses Sentry DSNs.
//
// A DSN names the project that receives a service's data:
//
//	{scheme}://{public_key}@{host}[:{port}]/[{path}/]{project_id}
//
// for example https://public@o1.ingest.us.sentry.io/42. otelsentry reads the
// public key and the organization id from it (both go into the Dynamic
// Sampling Context), the ingest host (never a propagation target) and the
// OTLP endpoint.
//
//	d, err := dsn.Parse(os.Getenv("SENTRY_DSN"))
//	if err != nil {
//		return err // errors.Is(err, dsn.ErrInvalid)
//	}
//	fmt.Println(d.PublicKey, d.OrgID())
package dsn
