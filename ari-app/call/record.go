package call

import (
	"slices"
	"strings"
	"time"
)

// PartyRecord is one leg of a call record.
type PartyRecord struct {
	Channel  string
	Endpoint string
	Number   string
	Role     Role
	State    LegState
}

// CallRecord is a call as the HTTP API shows it.
type CallRecord struct {
	ID        string
	Direction Direction
	State     State
	Dialled   string
	Target    string // the route's target: extension, ring group, peer or trunk
	Parties   []PartyRecord
	Created   time.Time
	Answered  time.Time // zero if never answered
	Ended     time.Time // zero while live
	Result    Result    // ResultNone while live
	Reason    string
}

func (e *Engine) record(c *call) CallRecord {
	r := CallRecord{
		ID: c.id, Direction: c.dir, State: c.state, Dialled: c.dialled, Target: c.route.Target,
		Created: c.created, Answered: c.answered, Ended: c.ended, Result: c.result, Reason: c.reason,
		Parties: make([]PartyRecord, len(c.legs)),
	}
	for i, l := range c.legs {
		r.Parties[i] = PartyRecord{Channel: l.channel, Endpoint: l.endpoint, Number: l.number, Role: l.role, State: l.state}
	}
	return r
}

// Snapshot lists the live calls, oldest first.
func (e *Engine) Snapshot() []CallRecord {
	out := make([]CallRecord, 0, len(e.calls))
	for _, c := range e.calls {
		out = append(out, e.record(c))
	}
	slices.SortFunc(out, func(a, b CallRecord) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Recent lists the last ended calls (Config.KeepEnded), oldest first.
func (e *Engine) Recent() []CallRecord {
	n := len(e.recent)
	out := make([]CallRecord, 0, n)
	if n < e.cfg.KeepEnded {
		return append(out, e.recent...)
	}
	out = append(out, e.recent[e.recentNext:]...)
	return append(out, e.recent[:e.recentNext]...)
}

func (e *Engine) keep(r CallRecord) {
	if len(e.recent) < e.cfg.KeepEnded {
		e.recent = append(e.recent, r)
		return
	}
	e.recent[e.recentNext] = r
	e.recentNext = (e.recentNext + 1) % len(e.recent)
}

// Outcome keys the ended-call counter.
type Outcome struct {
	Direction Direction
	Result    Result
}

// Histogram is a cumulative-free histogram: Counts[i] counts observations
// at most Bounds[i] (and above Bounds[i-1]); the last count is above
// every bound.
type Histogram struct {
	Bounds []time.Duration
	Counts []uint64
	Sum    time.Duration
	Count  uint64
}

// Stats is plain data for metrics.
type Stats struct {
	Active    int
	Queued    int // callers waiting for a busy phone
	Started   map[Direction]uint64
	Ended     map[Outcome]uint64
	Transfers uint64
	// Setup is the time from a call's arrival to the first sign that its
	// target rings (alerting or early media), from event timestamps.
	Setup Histogram
}

// setupBuckets is the number of bounds of the Setup histogram.
const setupBuckets = 7

// setupBounds are the Setup histogram's bucket bounds.
func setupBounds() [setupBuckets]time.Duration {
	return [setupBuckets]time.Duration{
		100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
	}
}

type counters struct {
	started   [directionCount]uint64
	ended     [directionCount][resultCount]uint64
	transfers uint64
	setup     histogram
}

type histogram struct {
	counts [setupBuckets + 1]uint64
	sum    time.Duration
	count  uint64
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0 // events without timestamps
	}
	bounds := setupBounds()
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += d
	h.count++
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	bounds := setupBounds()
	s := Stats{
		Active:    len(e.calls),
		Started:   map[Direction]uint64{},
		Ended:     map[Outcome]uint64{},
		Transfers: e.stats.transfers,
		Setup: Histogram{
			Bounds: bounds[:],
			Counts: slices.Clone(e.stats.setup.counts[:]),
			Sum:    e.stats.setup.sum,
			Count:  e.stats.setup.count,
		},
	}
	for _, q := range e.queues {
		s.Queued += len(q)
	}
	for d := range directionCount {
		if n := e.stats.started[d]; n > 0 {
			s.Started[d] = n
		}
		for r := range resultCount {
			if n := e.stats.ended[d][r]; n > 0 {
				s.Ended[Outcome{d, r}] = n
			}
		}
	}
	return s
}
