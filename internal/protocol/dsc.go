package protocol

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// DSC keys this package reads or writes itself.
const (
	keyTraceID     = "trace_id"
	keyPublicKey   = "public_key"
	keySampleRate  = "sample_rate"
	keySampleRand  = "sample_rand"
	keySampled     = "sampled"
	keyRelease     = "release"
	keyEnvironment = "environment"
	keyTransaction = "transaction"
	keyOrgID       = "org_id"
)

// The positions of the known keys in a written baggage: in this order,
// then the others in byte order.
const (
	rankTraceID = iota
	rankPublicKey
	rankSampleRate
	rankSampleRand
	rankSampled
	rankRelease
	rankEnvironment
	rankTransaction
	rankOrgID
	rankOther
)

// keyRank returns the position of key in a written baggage.
func keyRank(key string) int {
	switch key {
	case keyTraceID:
		return rankTraceID
	case keyPublicKey:
		return rankPublicKey
	case keySampleRate:
		return rankSampleRate
	case keySampleRand:
		return rankSampleRand
	case keySampled:
		return rankSampled
	case keyRelease:
		return rankRelease
	case keyEnvironment:
		return rankEnvironment
	case keyTransaction:
		return rankTransaction
	case keyOrgID:
		return rankOrgID
	}
	return rankOther
}

// DSC is the Dynamic Sampling Context of one trace: the Sentry members of
// the baggage this process sends downstream for it. It has one of two
// origins:
//
//   - continued: the usable Sentry members of the incoming baggage, frozen
//     when Extract reads them. They are forwarded as they came when they
//     are in written form already, else decoded and written again with the
//     same values. Only a missing or invalid sample_rand is added, and,
//     after a decision made in this process, sample_rate becomes its rate,
//     unless no member came in at all.
//   - started here: built once per trace from the configuration and the
//     local root span, the first time the trace leaves the process.
//
// A DSC does not change once built, but for the encodings it caches.
type DSC struct {
	traceID    trace.TraceID
	sampleRand string
	continued  bool

	// frozen holds a continued trace's incoming Sentry elements, those
	// whose key has the prefix, joined with commas as they came: the
	// header itself when it held nothing else, else a copy, so that no
	// third-party byte stays alive with the trace. The DSC is their
	// well-formed members; Extract reads only the few it needs at once,
	// and the rest waits until the DSC is first written.
	frozen string
	// read keeps what reading frozen found, once it has been read, and
	// upstreamRate the bits of its valid sample_rate.
	read         atomic.Uint32
	upstreamRate atomic.Uint64

	// head is what a DSC started here takes from the configuration;
	// sampled and transaction come from the trace's decision and root.
	head                 *Head
	sampled, transaction string

	// encoded caches the encoding for the rate last asked for.
	encoded atomic.Pointer[encoding]
}

// encoding is a DSC's members in written form, in written order, joined
// with commas, for one sample_rate.
type encoding struct {
	rate    string
	members string
	count   int
}

// SampleRand returns the trace's sample_rand: the valid incoming value
// verbatim, a backfill, or the one a trace started here derives.
func (d *DSC) SampleRand() string { return d.sampleRand }

// UpstreamRate returns the sample_rate of a continued trace's DSC, when it
// came with a valid one.
func (d *DSC) UpstreamRate() (float64, bool) {
	f := d.frozenFacts()
	return math.Float64frombits(d.upstreamRate.Load()), f.hasRate
}

// parseEncodedRate parses a sample_rate as it stands in baggage.
func parseEncodedRate(s string) (float64, bool) {
	if v, ok := percentDecode(s); ok {
		return ParseRate(v)
	}
	return 0, false
}

// MergeInto returns the baggage to write: the carrier's values existing,
// their Sentry members replaced by the DSC's. rate is the rate of a
// decision made in this process, or "". It returns "" when there is
// nothing to write.
func (d *DSC) MergeInto(existing []string, rate string) string {
	members, count := d.encoding(rate)
	return mergeBaggage(existing, members, count)
}

// Members returns the DSC's Sentry members as a baggage value alone, within
// the W3C limits, for rate as MergeInto takes it.
func (d *DSC) Members(rate string) string { return d.MergeInto(nil, rate) }

// encoding returns the DSC's members in written form, joined, for rate,
// and how many they are.
func (d *DSC) encoding(rate string) (string, int) {
	if d.continued {
		f := d.frozenFacts()
		if !f.usable {
			// A DSC that came in empty gets sample_rand alone, never a
			// rate.
			rate = ""
		}
		if f.verbatim && rate == "" {
			return d.frozen, f.members
		}
	}
	if e := d.encoded.Load(); e != nil && e.rate == rate {
		return e.members, e.count
	}
	var backing [maxBaggageMembers]dscMember
	members := d.members(backing[:0], rate)
	members.sort()
	e := &encoding{rate: rate, members: members.write(), count: len(members)}
	d.encoded.Store(e)
	return e.members, e.count
}

// members appends the DSC's members to dst, sample_rate set to rate when
// rate is not empty.
func (d *DSC) members(dst dscMembers, rate string) dscMembers {
	if d.continued {
		dst = dst.addIncoming(d.frozen).set(keySampleRand, d.sampleRand, false)
		if rate != "" {
			dst = dst.set(keySampleRate, rate, false)
		}
		return dst
	}
	// Keys go in written order, so that sorting finds them sorted.
	return dst.
		set(keyTraceID, d.traceID.String(), false).
		set(keyPublicKey, d.head.PublicKey, false).
		set(keySampleRate, rate, false).
		set(keySampleRand, d.sampleRand, false).
		set(keySampled, d.sampled, false).
		set(keyRelease, d.head.Release, false).
		set(keyEnvironment, d.head.Environment, false).
		set(keyTransaction, d.transaction, false).
		set(keyOrgID, d.head.OrgID, false)
}

// maxMemberValueLen bounds the trace state member value Extract writes:
// "s:<decision>;r:" and a sample_rand.
const maxMemberValueLen = len("s:x;r:") + maxSampleRandLen

// readIncoming fills d, a continued trace's DSC, from the carrier's baggage
// values, and returns the value of the sentry trace state member for the
// remote parent, "s:<decision>;r:<sample_rand>", with the decoded org_id
// and sampled values that Extract checks. It reads the header once, and of
// its Sentry members only those Extract needs now: it keeps the Sentry
// elements as they came, sliced from the header while they are the whole
// of it, copied once anything else appears.
func (d *DSC) readIncoming(decision Decision, values []string) (member, orgID, sampled string) {
	header := joinValues(values)
	var (
		rand, rate string
		// prefix is the length of the part of header that holds exactly
		// the elements kept so far, while copied is nil.
		prefix int
		copied *strings.Builder
	)
	r := baggageReader{rest: header}
	for {
		elem, more := r.nextSentryElement()
		if !more {
			break
		}
		if k, value, ok := neededMember(elem); ok {
			switch k {
			case keySampleRand:
				rand = value
			case keySampleRate:
				rate = value
			case keyOrgID:
				orgID = value
			case keySampled:
				sampled = value
			}
		}
		// An element that stands untrimmed right after the ones kept so
		// far extends the slice of the header.
		if copied == nil && r.end-r.start == len(elem) && (prefix == 0 && r.start == 0 || prefix > 0 && r.start == prefix+1) {
			prefix = r.end
			continue
		}
		if copied == nil {
			copied = new(strings.Builder)
			copied.Grow(len(header) + maxMemberValueLen)
			copied.WriteString(header[:prefix])
		}
		if copied.Len() > 0 {
			copied.WriteByte(',')
		}
		copied.WriteString(elem)
	}
	// Decoding waits until the last value of each key is known.
	if v, ok := percentDecode(rand); ok && validSampleRand(v) {
		d.sampleRand = v
	}
	orgID, _ = percentDecode(orgID)
	orgID = trimOWS(orgID)
	sampled, _ = percentDecode(sampled)

	// The member and the kept elements share one allocation; sample_rand
	// is read from the member, so that nothing refers to the header.
	b := copied
	if b == nil {
		b = new(strings.Builder)
		if prefix == len(header) && len(values) == 1 {
			d.frozen = header
			b.Grow(maxMemberValueLen)
		} else {
			// Something besides the elements was read: copy them.
			b.Grow(prefix + maxMemberValueLen)
			b.WriteString(header[:prefix])
		}
	}
	frozenLen := b.Len()
	var buf [maxMemberValueLen]byte
	m := append(buf[:0], 's', ':', decision.char(), ';', 'r', ':')
	if d.sampleRand != "" {
		m = append(m, d.sampleRand...)
	} else {
		upstream, ok := parseEncodedRate(rate)
		m = backfillSampleRand(m, d.traceID, decision, upstream, ok)
	}
	b.Write(m)
	text := b.String()
	if d.frozen == "" {
		d.frozen = text[:frozenLen]
	}
	member = text[frozenLen:]
	d.sampleRand = member[len("s:x;r:"):]
	return member, orgID, sampled
}

// neededMember returns the DSC key and value of a Sentry element that
// holds one of the members Extract reads at once: sample_rand,
// sample_rate, org_id and sampled. It reports false for any other, which
// it leaves unread.
func neededMember(elem string) (key, value string, ok bool) {
	k := elem[len(sentryPrefix):]
	if !strings.HasPrefix(k, "sample") && !strings.HasPrefix(k, keyOrgID) {
		return "", "", false
	}
	key, value, _, ok = parseMember(elem, len(sentryPrefix))
	return key, value, ok && value != ""
}

// frozenFacts is what reading a continued trace's frozen elements found.
type frozenFacts struct {
	// members counts the well-formed Sentry members.
	members int
	// usable reports at least one: otherwise the DSC came in empty.
	usable bool
	// verbatim reports that the elements are their own encoding: each a
	// well-formed member exactly "key=value", values in written form, keys
	// in written order (so none repeats), and sample_rand there, valid as
	// it came.
	verbatim bool
	// hasRate reports a valid sample_rate among them.
	hasRate bool
}

// The bits of DSC.read.
const (
	readDone     = 1 << 31
	readUsable   = 1 << 30
	readVerbatim = 1 << 29
	readHasRate  = 1 << 28
	readMembers  = 1<<8 - 1
)

// frozenFacts reads the frozen elements the first time it is called, and
// returns what it found.
func (d *DSC) frozenFacts() frozenFacts {
	v := d.read.Load()
	if v&readDone == 0 {
		v = readDone | d.readFrozen()
		d.read.Store(v)
	}
	return frozenFacts{members: int(v & readMembers), usable: v&readUsable != 0, verbatim: v&readVerbatim != 0,
		hasRate: v&readHasRate != 0}
}

// readFrozen reads the frozen elements and returns their facts as bits,
// and stores the upstream sample_rate.
func (d *DSC) readFrozen() uint32 {
	var (
		members, prevRank = 0, -1
		prevKey, rand     string
		rate              string
		verbatim          = true
	)
	r := baggageReader{rest: d.frozen}
	for {
		k, value, ok := r.next()
		if !ok {
			break
		}
		members++
		rank := keyRank(k)
		verbatim = verbatim && r.exact && r.written && (rank > prevRank || rank == prevRank && k > prevKey)
		prevRank, prevKey = rank, k
		switch rank {
		case rankSampleRand:
			rand = value
		case rankSampleRate:
			rate = value
		}
	}
	// Every element is one of the members, and sample_rand is as it came.
	verbatim = verbatim && r.examined == members && rand != "" && rand == d.sampleRand
	var bits uint32
	if upstream, ok := parseEncodedRate(rate); ok {
		d.upstreamRate.Store(math.Float64bits(upstream))
		bits |= readHasRate
	}
	if members > 0 {
		bits |= readUsable
	}
	if verbatim {
		bits |= readVerbatim
	}
	return bits | uint32(members)
}

// contradicts reports a baggage sampled value that disagrees with the
// sentry-trace flag.
func contradicts(sampled string, flag Decision) bool {
	return sampled == "true" && flag == NotSampled || sampled == "false" && flag == Sampled
}

// Head is what the DSC of a trace started here takes from the
// configuration, with the DSCs recently built from it.
type Head struct {
	PublicKey, Release, Environment, OrgID string

	// recent keeps the DSCs of traces started here that Inject ran for
	// recently, indexed by trace id, so that each is built once per trace
	// while the memory stays fixed. A trace whose slot another took gets
	// its DSC built again, equal to the first.
	recent [recentHeads]atomic.Pointer[DSC]
}

// recentHeads bounds the DSCs a Head keeps: traces started here that
// Inject runs for concurrently.
const recentHeads = 256

// DSCFor returns the DSC that Inject writes for sc in ctx, whose sentry
// trace state member m has been parsed (hasMember reports one) and whose
// decision is d: the frozen DSC of a continued trace, which Extract put in
// ctx; a DSC started here for a trace this process is the head of, which
// the sampler marks with h:1, or which has no sentry member at all (another
// sampler started it); otherwise sample_rand alone, for a continued trace
// whose context was lost, which lost reports.
func (h *Head) DSCFor(ctx context.Context, sc trace.SpanContext, m TraceStateMember, hasMember bool, d Decision) (_ *DSC, lost bool) {
	if c := ContinuedFromContext(ctx, sc.TraceID()); c != nil {
		return c, false
	}
	// The trace's sample_rand, in a buffer, so that a cached DSC is found
	// without a string made for it.
	var buf [maxSampleRandLen]byte
	rand := appendSampleRandOf(buf[:0], sc, m)
	if hasMember && (!m.Head || sc.IsRemote()) {
		return &DSC{traceID: sc.TraceID(), sampleRand: string(rand), continued: true}, true
	}
	var sampled, transaction string
	switch d {
	case Sampled:
		sampled = "true"
	case NotSampled:
		sampled = "false"
	}
	// Without a decision there is no rate and no transaction either.
	if d != Deferred {
		if hasMember {
			transaction = m.Transaction
		} else {
			transaction = localRootTransaction(trace.SpanFromContext(ctx), sc)
		}
	}
	slot := &h.recent[int(sc.TraceID()[len(trace.TraceID{})-1])%recentHeads]
	if c := slot.Load(); c != nil && c.traceID == sc.TraceID() && c.sampleRand == string(rand) &&
		c.sampled == sampled && c.transaction == transaction {
		return c, false
	}
	c := &DSC{traceID: sc.TraceID(), sampleRand: string(rand), head: h, sampled: sampled, transaction: transaction}
	slot.Store(c)
	return c, false
}

// rootSpan is the part of a recording SDK span that tells whether it is a
// local root and what it is called.
type rootSpan interface {
	Name() string
	Parent() trace.SpanContext
	Attributes() []attribute.KeyValue
}

// localRootTransaction returns span's name, cut to Sentry's length, when
// span is the recording local root of sc and its name is of good quality
// (not a raw URL); "" otherwise. It serves traces sampled by other
// samplers, which record no name.
func localRootTransaction(span trace.Span, sc trace.SpanContext) string {
	r, ok := span.(rootSpan)
	if !ok || !span.IsRecording() || span.SpanContext().SpanID() != sc.SpanID() {
		return ""
	}
	if parent := r.Parent(); parent.IsValid() && !parent.IsRemote() {
		return ""
	}
	if TransactionSource(r.Attributes()) == SourceURL {
		return ""
	}
	name, _ := CutTransaction(r.Name())
	return name
}

// DecodeDSC returns the Dynamic Sampling Context in a baggage value: its
// Sentry members, keyed without the "sentry-" prefix, values
// percent-decoded, the last of a repeated key winning. It returns nil when
// there is none.
func DecodeDSC(baggage string) map[string]string {
	var dsc map[string]string
	r := baggageReader{rest: joinValues([]string{baggage})}
	for {
		k, value, ok := r.next()
		if !ok {
			return dsc
		}
		if v, ok := percentDecode(value); ok {
			if dsc == nil {
				dsc = map[string]string{}
			}
			dsc[k] = v
		}
	}
}

// dscMember is one DSC member on its way out.
type dscMember struct {
	key   string // without the prefix
	value string
	rank  int // position of key in the written order
	// encoded marks a value still in baggage form (percent-encoded), as
	// read from an incoming header; it is decoded while it is re-encoded.
	encoded bool
}

// dscMembers collects the members to write. Callers give it a backing array
// of maxBaggageMembers members so that it lives on the stack; the methods
// return the slice rather than store through a pointer, which would move
// that array to the heap.
type dscMembers []dscMember

// set adds or replaces key; a later value wins. An empty value removes the
// key: empty values are not members.
func (ms dscMembers) set(key, value string, encoded bool) dscMembers {
	for i := range ms {
		if ms[i].key == key {
			if value == "" {
				return slices.Delete(ms, i, i+1)
			}
			ms[i].value, ms[i].encoded = value, encoded
			return ms
		}
	}
	if value == "" {
		return ms
	}
	return append(ms, dscMember{key: key, value: value, rank: keyRank(key), encoded: encoded})
}

// addIncoming adds the Sentry members of an incoming baggage value, kept
// as they came.
func (ms dscMembers) addIncoming(baggage string) dscMembers {
	r := baggageReader{rest: baggage}
	for {
		k, value, ok := r.next()
		if !ok {
			return ms
		}
		ms = ms.set(k, value, true)
	}
}

// sort puts the members in the written order.
func (ms dscMembers) sort() {
	slices.SortStableFunc(ms, func(a, b dscMember) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.key, b.key)
	})
}

// write returns the members in written form, joined with commas: each
// "sentry-<key>=<value>", with every byte of the value that is not RFC 3986
// unreserved percent-encoded in uppercase.
func (ms dscMembers) write() string {
	size := 0
	for i := range ms {
		size += len(sentryPrefix) + len(ms[i].key) + 1 + 3*len(ms[i].value) + 1
	}
	var b strings.Builder
	b.Grow(size)
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sentryPrefix)
		b.WriteString(m.key)
		b.WriteByte('=')
		for j := 0; j < len(m.value); j++ {
			c := m.value[j]
			if m.encoded && c == '%' {
				c = unescapeAt(m.value, j)
				j += 2
			}
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('%')
				b.WriteByte(upperHex[c>>4])
				b.WriteByte(upperHex[c&0x0f])
			}
		}
	}
	return b.String()
}

// DSCWriter is implemented by the propagators of this module: WrittenDSC
// returns the DSC that Inject writes for ctx and the sample_rate of a
// decision made in this process ("" for none), and false where Inject
// writes none (no valid span context, or Inject suppressed).
type DSCWriter interface {
	WrittenDSC(ctx context.Context) (dsc *DSC, rate string, ok bool)
}

// WrittenMembers returns the Sentry members of the baggage that p writes
// for ctx, as a baggage value, or "". A propagator of this module is read
// directly; any other, such as a composite built from OTEL_PROPAGATORS
// around one, is asked to Inject into an empty carrier, without the
// OpenTelemetry baggage, whose members it would write first.
func WrittenMembers(ctx context.Context, p propagation.TextMapPropagator) string {
	if w, ok := p.(DSCWriter); ok {
		if dsc, rate, ok := w.WrittenDSC(ctx); ok {
			return dsc.Members(rate)
		}
		return ""
	}
	c := propagation.MapCarrier{}
	p.Inject(baggage.ContextWithoutBaggage(ctx), c)
	var b strings.Builder
	r := baggageReader{rest: joinValues([]string{c.Get(HeaderBaggage)})}
	for {
		k, value, ok := r.next()
		if !ok {
			return b.String()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sentryPrefix + k + "=" + value)
	}
}
