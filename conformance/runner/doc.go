// Package runner sends traces through chains of hop services and checks,
// from their reports alone, that every hop kept Sentry's trace propagation
// rules: one trace id end to end; each hop's parent is the span the
// previous hop sent; a sampled or negative decision is kept and a deferred
// one decided once, by the first hop with a rate; the DSC is passed on
// unchanged (only sample_rand may be added, and sample_rate set by the hop
// that decided a deferred trace); a head sends a complete DSC; and no
// incoming third-party baggage member is forwarded.
//
// Every check names the hop and the implementation it judges, so a known
// departure of one implementation (see Check.Deviation) is recorded by name
// while every other hop is still held to the rules:
//
//	hops := []runner.Hop{
//		{Name: "node", Impl: "node", URL: nodeURL, Rate: runner.Rate(1)},
//		{Name: "api", Impl: "otelsentry", URL: apiURL, Rate: runner.Rate(0)},
//	}
//	for _, c := range runner.Cases() {
//		res := runner.Run(ctx, http.DefaultClient, hops, c)
//		for _, f := range runner.Failures(res.Checks) {
//			log.Print(f)
//		}
//	}
package runner
