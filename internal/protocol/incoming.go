package protocol

import "strings"

// IncomingDSC is what Extract reads from the Sentry members of an incoming
// baggage, in one pass, allocating only for a value that needs
// percent-decoding.
type IncomingDSC struct {
	// Usable reports at least one non-empty Sentry member.
	Usable bool
	// SampleRand is the valid sample_rand, verbatim, else "".
	SampleRand string
	// SampleRate is the decoded sample_rate, its validity not checked.
	SampleRate string
	// OrgID is the decoded org_id, trimmed of spaces and tabs.
	OrgID string
	// Sampled is the decoded sampled value.
	Sampled string

	// baggage is the capped incoming header; it goes no further than
	// NewIncoming, which keeps only its usable Sentry members.
	baggage string
	// sentryLen is the length of those members joined with commas.
	sentryLen int
	// whole reports that the header holds nothing else, so that it can be
	// kept as it is.
	whole bool
	// verbatim reports that the kept members are already the frozen DSC as
	// Inject writes it (values in written form, keys in written order, so
	// none repeats, and sample_rand valid as it came), so that they can be
	// forwarded without being decoded and encoded again.
	verbatim bool
	// members counts them.
	members int
	// runs are the stretches of the header that hold the kept members back
	// to back, each "key=value" as it came, so that copying them needs no
	// second parse. scattered reports that they do not describe the
	// members: there are more stretches than runs holds, or a member has
	// spaces or properties around it.
	runs      [maxRuns]span
	nRuns     int
	scattered bool
}

// maxRuns is how many separate stretches of Sentry members a header may
// hold and still be copied without a second parse: SDKs write theirs
// together, so one or two are usual.
const maxRuns = 4

// span is a part of a string, by byte offsets.
type span struct{ start, end int }

// addRun records the member r read last as kept.
func (d *IncomingDSC) addRun(r *baggageReader, key, value string) {
	if d.scattered {
		return
	}
	end := r.start + len(r.raw)
	switch {
	case len(r.raw) != len(key)+1+len(value):
		d.scattered = true
	case d.nRuns > 0 && d.runs[d.nRuns-1].end+1 == r.start:
		d.runs[d.nRuns-1].end = end
	case d.nRuns < maxRuns:
		d.runs[d.nRuns] = span{r.start, end}
		d.nRuns++
	default:
		d.scattered = true
	}
}

// ScanDSC reads the Sentry members of a carrier's baggage values, joined
// with commas and capped at 8192 bytes and 64 members.
func ScanDSC(values []string) IncomingDSC {
	var d IncomingDSC
	var rand string
	written := true
	prevRank, prevKey := -1, ""
	joined := joinValues(values)
	d.baggage = capBaggage(joined)
	r := baggageReader{rest: d.baggage}
	for {
		key, value, ok := r.next()
		if !ok {
			break
		}
		k, isSentry := sentryKey(key)
		if !isSentry || value == "" {
			continue
		}
		if d.Usable {
			d.sentryLen++
		}
		d.Usable = true
		d.sentryLen += len(key) + 1 + len(value)
		d.members++
		d.addRun(&r, key, value)
		rank := keyRank(k)
		written = written && (rank > prevRank || rank == prevRank && k > prevKey) && r.written
		prevRank, prevKey = rank, k
		switch k {
		case keySampleRand:
			rand = value
		case keySampleRate:
			d.SampleRate = value
		case keyOrgID:
			d.OrgID = value
		case keySampled:
			d.Sampled = value
		}
	}
	// The members, joined, are as long as the header only when they are
	// the whole header: anything else dropped would shorten them.
	d.whole = d.sentryLen == len(joined)
	// Decoding waits until the last value of each key is known.
	if v, ok := percentDecode(rand); ok {
		if validSampleRand(v) {
			d.SampleRand = v
		}
	}
	d.verbatim = written && d.SampleRand != "" && d.SampleRand == rand
	d.SampleRate, _ = percentDecode(d.SampleRate)
	d.OrgID, _ = percentDecode(d.OrgID)
	d.OrgID = trimOWS(d.OrgID)
	d.Sampled, _ = percentDecode(d.Sampled)
	return d
}

// Contradicts reports a baggage sampled value that disagrees with the
// sentry-trace flag.
func (d IncomingDSC) Contradicts(flag Decision) bool {
	return d.Sampled == "true" && flag == NotSampled || d.Sampled == "false" && flag == Sampled
}

// kept returns the usable Sentry members, joined with commas: the header
// itself when it holds nothing else, else a copy, so that no third-party
// byte stays alive with the trace.
func (d IncomingDSC) kept() string {
	if d.whole || d.sentryLen == 0 {
		return d.baggage[:d.sentryLen]
	}
	var b strings.Builder
	b.Grow(d.sentryLen)
	if !d.scattered {
		for i, run := range d.runs[:d.nRuns] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(d.baggage[run.start:run.end])
		}
		return b.String()
	}
	r := baggageReader{rest: d.baggage}
	for {
		key, value, ok := r.next()
		if !ok {
			return b.String()
		}
		if _, isSentry := sentryKey(key); !isSentry || value == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(value)
	}
}
