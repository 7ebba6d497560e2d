package pulse_test

import (
	"testing"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

// BenchmarkDecoder decodes a ten-digit number with contact bounce on
// every edge; it reports the cost per raw edge.
func BenchmarkDecoder(b *testing.B) {
	g := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate10PPS())
	edges, end, err := g.Dial("0312345678", time.Second)
	if err != nil {
		b.Fatal(err)
	}
	edges = bounce(edges, 4*time.Millisecond)
	cfg := pulse.DefaultJapan()
	b.ReportAllocs()
	for b.Loop() {
		d, err := pulse.NewDecoder(cfg, pulse.Make, 0)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, e := range edges {
			n += len(d.Edge(e.State, e.At))
		}
		n += len(d.Tick(end))
		if n != 10 {
			b.Fatalf("%d events", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(edges)), "ns/edge")
}
