package call

import (
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkEngine runs rounds of 1,000 concurrent calls through one engine:
// all arrive, all ring, all are answered (1,000 live talking calls), then
// all hang up. It reports events/s, p50/p99 event-to-command latency
// (time.Now around Handle) and heap bytes per live call.
func BenchmarkEngine(b *testing.B) {
	const calls = 1000
	cfg := ConfigFromSite(testSite())
	cfg.IDPrefix = "b"
	e, err := New(cfg, testRouter(b))
	if err != nil {
		b.Fatal(err)
	}
	callers := make([]string, calls)
	legs := make([]string, calls)
	lat := make([]time.Duration, 0, 8*calls)
	var handled time.Duration
	var perCall float64
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	handle := func(ev Event) []Command {
		now = now.Add(time.Millisecond)
		ev.At = now
		t0 := time.Now()
		out := e.Handle(ev)
		d := time.Since(t0)
		handled += d
		lat = append(lat, d)
		return out
	}
	args := func(i int) []string {
		// Outbound PSTN calls: every one dials a trunk leg, none is queued.
		return []string{"outbound", "soft" + strconv.Itoa(1+i%3), "03" + strconv.Itoa(10000000+i)}
	}

	b.ResetTimer()
	for round := 0; round < b.N; round++ {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range callers {
			callers[i] = "r" + strconv.Itoa(round) + "-" + strconv.Itoa(i)
		}
		b.StartTimer()

		for i := range calls {
			for _, c := range handle(Event{Kind: EventStasisStart, Channel: callers[i], Args: args(i), State: ChannelRing}) {
				if c.Kind == CmdDial {
					legs[i] = c.Channel
				}
			}
			handle(Event{Kind: EventStasisStart, Channel: legs[i]})
		}
		for i := range calls {
			handle(Event{Kind: EventDial, Channel: legs[i], DialStatus: DialRinging})
			handle(Event{Kind: EventDial, Channel: legs[i], DialStatus: DialProgress})
		}
		for i := range calls {
			handle(Event{Kind: EventChannelState, Channel: legs[i], State: ChannelUp})
		}

		b.StopTimer()
		if len(e.calls) != calls {
			b.Fatalf("%d live calls, want %d", len(e.calls), calls)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perCall += float64(after.HeapAlloc-before.HeapAlloc) / calls
		b.StartTimer()

		for i := range calls {
			handle(Event{Kind: callerEndKind(i), Channel: callers[i], Cause: 16})
			handle(Event{Kind: EventChannelDestroyed, Channel: legs[i], Cause: 16})
		}
		if len(e.calls) != 0 {
			b.Fatalf("%d calls left", len(e.calls))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/handled.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns/event")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns/event")
	b.ReportMetric(perCall/float64(b.N), "heap-B/call")
}

// callerEndKind alternates the two ways a caller's
// end is reported.
func callerEndKind(i int) EventKind {
	if i%2 == 0 {
		return EventHangupRequest
	}
	return EventChannelDestroyed
}
