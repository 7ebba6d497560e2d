package tone

import (
	"math"
	"testing"
)

// The rotation oscillator renders what math.Sin a sample would, to
// within one step of 16-bit PCM, over a minute of tone read in frames of
// awkward sizes.
func TestGeneratorMatchesSine(t *testing.T) {
	for _, tc := range []struct {
		name, list string
		want       func(n int, amp float64) float64
	}{
		{"single", "1004", func(n int, amp float64) float64 {
			return amp * math.Sin(2*math.Pi*1004*float64(n)/8000)
		}},
		{"added", "400+450", func(n int, amp float64) float64 {
			return amp*math.Sin(2*math.Pi*400*float64(n)/8000) + amp*math.Sin(2*math.Pi*450*float64(n)/8000)
		}},
		{"modulated", "400*16", func(n int, amp float64) float64 {
			env := (1 + modulationDepth*math.Sin(2*math.Pi*16*float64(n)/8000)) / (1 + modulationDepth)
			return amp * env * math.Sin(2*math.Pi*400*float64(n)/8000)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustList(t, tc.list)
			n := 0
			for _, size := range []int{1, 7, 160, 333, 4000} {
				frame := make([]int16, size)
				for end := n + 12*8000; n < end; {
					g.Read(frame)
					for i, v := range frame {
						want := clip16(tc.want(n+i, g.amp))
						if d := int(v) - int(want); d < -1 || d > 1 {
							t.Fatalf("sample %d: %d, want %d", n+i, v, want)
						}
					}
					n += size
				}
			}
		})
	}
}

// BenchmarkGeneratorTone is one 20 ms frame of a steady 1004 Hz tone.
func BenchmarkGeneratorTone(b *testing.B) {
	g := mustList(b, "1004")
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		g.Read(frame)
	}
}
