package propagator

// incomingDSC is what Extract needs from the incoming Sentry members: one
// pass, no allocation unless a value needed percent-decoding.
type incomingDSC struct {
	usable     bool   // at least one non-empty Sentry member (IN-2)
	sampleRand string // valid, verbatim (SM-10), else ""
	sampleRate string // decoded, validity not checked
	orgID      string // trimmed (OR-2)
	sampled    string
}

func scanDSC(baggage string) incomingDSC {
	var d incomingDSC
	var rand string
	r := baggageReader{rest: baggage}
	for {
		key, value, ok := r.next()
		if !ok {
			break
		}
		k, isSentry := sentryKey(key)
		if !isSentry || value == "" {
			continue
		}
		d.usable = true
		switch k {
		case keySampleRand:
			rand = value
		case keySampleRate:
			d.sampleRate = value
		case keyOrgID:
			d.orgID = value
		case keySampled:
			d.sampled = value
		}
	}
	// Decoding waits until the last value of each key is known (BG-9).
	if v, ok := percentDecode(rand); ok {
		if _, valid := ParseSampleRand(v); valid {
			d.sampleRand = v
		}
	}
	d.sampleRate, _ = percentDecode(d.sampleRate)
	d.orgID, _ = percentDecode(d.orgID)
	d.orgID = trimOWS(d.orgID)
	d.sampled, _ = percentDecode(d.sampled)
	return d
}

// contradicts reports a baggage sampled value that disagrees with the
// sentry-trace flag (IN-5).
func (d incomingDSC) contradicts(flag Decision) bool {
	return d.sampled == "true" && flag == NotSampled || d.sampled == "false" && flag == Sampled
}
