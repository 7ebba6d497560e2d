package resample_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/resample"
)

func sine(rate int, freq, amp float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// level is the amplitude of freq in x (Goertzel), relative to full scale.
func level(x []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(p) / float64(len(x)) / 32767
}

func db(x float64) float64 { return 20 * math.Log10(x) }

// run converts in blocks of block samples, as a sound card delivers them.
func run(t *testing.T, r *resample.Resampler, x []int16, block int) []int16 {
	t.Helper()
	var out []int16
	for i := 0; i < len(x); i += block {
		before := len(out)
		end := min(i+block, len(x))
		out = r.Process(out, x[i:end])
		require.LessOrEqual(t, len(out)-before, r.OutLen(end-i))
	}
	return out
}

func TestConversions(t *testing.T) {
	tests := []struct {
		in, out   int
		pass      float64 // a telephone-band tone: kept
		stop      float64 // a tone the output cannot carry or an image: removed
		stopAt    float64 // where it shows in the output
		maxImagDB float64
	}{
		{48000, 8000, 1000, 5000, 3000, -60},
		{44100, 8000, 3000, 6000, 2000, -60},
		{8000, 48000, 1000, 1000, 7000, -60},
		{8000, 44100, 3300, 3300, 4700, -60},
		{16000, 8000, 2000, 6000, 2000, -60},
	}
	for _, tt := range tests {
		r, err := resample.New(tt.in, tt.out)
		require.NoError(t, err)
		n := tt.in // one second
		out := run(t, r, sine(tt.in, tt.pass, 16000, n), 480)
		assert.InDelta(t, tt.out, len(out), 2, "%d→%d length", tt.in, tt.out)
		skip := tt.out / 50 // past the filter's start-up
		got := level(out[skip:], tt.out, tt.pass) * 32767 / 16000
		assert.InDelta(t, 0, db(got), 0.2, "%d→%d passband %v Hz", tt.in, tt.out, tt.pass)
		if tt.stop != tt.pass {
			r2, _ := resample.New(tt.in, tt.out)
			out = run(t, r2, sine(tt.in, tt.stop, 16000, n), 480)
			got = level(out[skip:], tt.out, tt.stopAt) * 32767 / 16000
		} else {
			got = level(out[skip:], tt.out, tt.stopAt) * 32767 / 16000
		}
		assert.Less(t, db(got), tt.maxImagDB, "%d→%d: %v Hz at %v Hz", tt.in, tt.out, tt.stop, tt.stopAt)
		assert.Less(t, r.Delay(), 4*time.Millisecond)
		assert.Greater(t, r.Delay(), time.Millisecond)
	}
}

func TestBlockSizeDoesNotMatter(t *testing.T) {
	x := sine(48000, 440, 20000, 4800)
	a, _ := resample.New(48000, 8000)
	b, _ := resample.New(48000, 8000)
	assert.Equal(t, run(t, a, x, 4800), run(t, b, x, 7))
}

func TestSameRateAndReset(t *testing.T) {
	r, err := resample.New(8000, 8000)
	require.NoError(t, err)
	x := sine(8000, 440, 20000, 160)
	assert.Equal(t, x, r.Process(nil, x))
	assert.Zero(t, r.Delay())
	in, out := r.Rates()
	assert.Equal(t, [2]int{8000, 8000}, [2]int{in, out})
	r.Reset()
	assert.Nil(t, r.Process(nil, nil))
}

func TestClipping(t *testing.T) {
	r, err := resample.New(8000, 48000)
	require.NoError(t, err)
	x := make([]int16, 800)
	for i := range x {
		if i%2 == 0 {
			x[i] = 32767
		} else {
			x[i] = -32768
		}
	}
	assert.NotPanics(t, func() { r.Process(nil, x) })
}

func TestBadRates(t *testing.T) {
	for _, rates := range [][2]int{{0, 8000}, {8000, -1}, {8000, 1000000}, {7919, 7907}} {
		_, err := resample.New(rates[0], rates[1])
		assert.ErrorIs(t, err, resample.ErrRate, "%v", rates)
	}
}

func BenchmarkDown48k(b *testing.B) {
	r, _ := resample.New(48000, 8000)
	x := sine(48000, 1000, 10000, 960) // 20 ms
	out := make([]int16, 0, 200)
	b.ReportAllocs()
	for b.Loop() {
		out = r.Process(out[:0], x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/20ms-frame")
}

func BenchmarkUp48k(b *testing.B) {
	r, _ := resample.New(8000, 48000)
	x := sine(8000, 1000, 10000, 160)
	out := make([]int16, 0, 1000)
	b.ReportAllocs()
	for b.Loop() {
		out = r.Process(out[:0], x)
	}
}
