package dsn_test

import (
	"fmt"

	"github.com/otelsentry/otelsentry/dsn"
)

func ExampleParse() {
	d, err := dsn.Parse("https://public@o42.ingest.us.sentry.io/7")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.PublicKey, d.OrgID(), d.APIURL())
	// Output: public 42 https://o42.ingest.us.sentry.io/api/7
}
