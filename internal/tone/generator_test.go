package tone

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// render plays a generator for d at 8 kHz.
func render(t testing.TB, g *Generator, d time.Duration) []int16 {
	t.Helper()
	out := make([]int16, int(d.Seconds()*DefaultSampleRate))
	for off := 0; off < len(out); off += 160 {
		end := min(off+160, len(out))
		g.Read(out[off:end])
	}
	return out
}

func mustList(t testing.TB, list string, opts ...Option) *Generator {
	t.Helper()
	g, err := FromList(list, opts...)
	require.NoError(t, err)
	return g
}

func TestGeneratorTones(t *testing.T) {
	tests := []struct {
		name    string
		list    string
		dur     time.Duration
		freqs   []float64 // each must be present
		absent  []float64
		cadence []time.Duration // expected, checked on the first frequency
	}{
		{name: "jp dial", list: "400", dur: time.Second, freqs: []float64{400}, absent: []float64{1004}},
		{name: "jp busy", list: "400/500,0/500", dur: 3 * time.Second, freqs: []float64{400},
			cadence: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}},
		{name: "jp ringback modulated", list: "400*16/1000,0/2000", dur: 7 * time.Second, freqs: []float64{400}, absent: []float64{16, 15},
			cadence: []time.Duration{time.Second, 2 * time.Second, time.Second, 2 * time.Second}},
		{name: "us dial sum", list: "350+440", dur: time.Second, freqs: []float64{350, 440}, absent: []float64{400}},
		{name: "test tone", list: "1004", dur: time.Second, freqs: []float64{1004}, absent: []float64{440}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcm := render(t, mustList(t, tt.list), tt.dur)
			for _, f := range tt.freqs {
				d := Detector{Freq: f}.Detect(pcm)
				assert.True(t, d.Present, "%v Hz should be present", f)
				if tt.cadence != nil && f == tt.freqs[0] {
					assert.Equal(t, tt.cadence, d.Cadence())
				}
			}
			for _, f := range tt.absent {
				assert.False(t, Detector{Freq: f}.Detect(pcm).Present, "%v Hz should be absent", f)
			}
		})
	}
}

func TestGeneratorLevel(t *testing.T) {
	for _, level := range []float64{-30, -20, -10, 0, 3} {
		pcm := render(t, mustList(t, "1000", WithLevel(level)), time.Second)
		got := PowerDBm0(Goertzel(pcm, 1000, DefaultSampleRate))
		assert.InDelta(t, level, got, 0.1, "level %v", level)
		d := Detector{Freq: 1000}.Detect(pcm)
		assert.InDelta(t, level, d.Level, 0.2)
	}
	assert.InDelta(t, 7219, Amplitude(DefaultLevel), 30, "default is about Asterisk's 7219")
	assert.InDelta(t, -10, LevelOf(Amplitude(-10)), 1e-9)
	assert.True(t, math.IsInf(LevelOf(0), -1))
}

// The Japanese ringback's envelope swings at 16 Hz: the first 1 s has 16
// peaks, and the sum of two tones is louder than either.
func TestGeneratorModulation(t *testing.T) {
	pcm := render(t, mustList(t, "400*16/1000,0/2000"), time.Second)
	// Envelope per 5 ms (40 samples: two 400 Hz cycles).
	var env []float64
	for off := 0; off+40 <= len(pcm); off += 40 {
		env = append(env, math.Sqrt(MeanSquare(pcm[off:off+40])))
	}
	peaks := 0
	for i := 1; i+1 < len(env); i++ {
		if env[i] > env[i-1] && env[i] >= env[i+1] && env[i] > 0.5*Amplitude(DefaultLevel)/math.Sqrt2 {
			peaks++
		}
	}
	assert.InDelta(t, 16, peaks, 1)
	maxAbs := 0
	for _, v := range pcm {
		maxAbs = max(maxAbs, int(math.Abs(float64(v))))
	}
	assert.InDelta(t, Amplitude(DefaultLevel), float64(maxAbs), Amplitude(DefaultLevel)*0.02, "peak stays at the set level")
}

func TestGeneratorOnce(t *testing.T) {
	// jp info: three once-only tones, then silence for ever.
	g := mustList(t, "!950/330,!1400/330,!1800/330,0")
	pcm := render(t, g, 2*time.Second)
	for i, f := range []float64{950, 1400, 1800} {
		part := pcm[i*2640 : (i+1)*2640]
		assert.True(t, Detector{Freq: f}.Detect(part).Present, "%v Hz in part %d", f, i)
	}
	assert.Zero(t, MeanSquare(pcm[3*2640:]))
	assert.False(t, g.Done(), "the final 0 lasts for ever")

	// Stutter: once-only beeps, then a continuous tone.
	pcm = render(t, mustList(t, "!400/100,!0/100,400"), time.Second)
	d := Detector{Freq: 400}.Detect(pcm)
	assert.Equal(t, []Run{{true, 100 * time.Millisecond}, {false, 100 * time.Millisecond}, {true, 800 * time.Millisecond}}, d.Runs)

	// Only once-only items: the tone ends and Read says so.
	g = mustList(t, "!400/100,!0/100")
	frame := make([]int16, 160)
	total := 0
	for range 10 {
		total += g.Read(frame)
	}
	assert.Equal(t, 1600, total)
	assert.True(t, g.Done())
	g.Reset()
	assert.False(t, g.Done())
	assert.Equal(t, 160, g.Read(frame))
}

// Repeating items repeat and once-only ones do not: "!1400/100,400/100,0/100".
func TestGeneratorRepeatSkipsOnce(t *testing.T) {
	pcm := render(t, mustList(t, "!1400/100,400/100,0/100"), time.Second)
	hi := Detector{Freq: 1400}.Detect(pcm)
	assert.Equal(t, 100*time.Millisecond, hi.Runs[0].Duration)
	assert.True(t, hi.Runs[0].On)
	assert.Len(t, hi.Runs, 2, "1400 Hz only at the start")
	lo := Detector{Freq: 400}.Detect(pcm)
	// off 100 (1400), then 400 on/off 100 ms each.
	assert.Equal(t, Run{false, 100 * time.Millisecond}, lo.Runs[0])
	for _, r := range lo.Runs[1 : len(lo.Runs)-1] {
		assert.Equal(t, 100*time.Millisecond, r.Duration)
	}
}

func TestGeneratorErrors(t *testing.T) {
	tests := []struct {
		name string
		segs []Segment
		opts []Option
		err  string
	}{
		{name: "no segments", err: "no segments"},
		{name: "level", segs: []Segment{{Freq1: 400}}, opts: []Option{WithLevel(4)}, err: "above full scale"},
		{name: "nan level", segs: []Segment{{Freq1: 400}}, opts: []Option{WithLevel(math.NaN())}, err: "above full scale"},
		{name: "rate", segs: []Segment{{Freq1: 400}}, opts: []Option{WithSampleRate(10)}, err: "sample rate"},
		{name: "nyquist", segs: []Segment{{Freq1: 4000}}, err: "outside"},
		{name: "negative", segs: []Segment{{Freq1: -1}}, err: "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewGenerator(tt.segs, tt.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
	_, err := FromList("")
	assert.Error(t, err)
	g, err := FromList("5000", WithSampleRate(16000))
	require.NoError(t, err)
	pcm := make([]int16, 1600)
	g.Read(pcm)
	assert.True(t, Detector{Freq: 5000, Rate: 16000}.Detect(pcm).Present)
}

func FuzzGenerator(f *testing.F) {
	for _, z := range Zones() {
		for _, t := range z.Tones {
			f.Add(t, uint16(160))
		}
	}
	f.Add("!0/0,!1/1", uint16(7))
	f.Fuzz(func(t *testing.T, list string, frame uint16) {
		g, err := FromList(list)
		if err != nil {
			return
		}
		buf := make([]int16, int(frame%1000)+1)
		for range 20 {
			n := g.Read(buf)
			if n < 0 || n > len(buf) {
				t.Fatalf("Read returned %d for a %d-sample frame", n, len(buf))
			}
			if n < len(buf) && !g.Done() {
				t.Fatalf("short read %d without Done", n)
			}
		}
	})
}

func BenchmarkGeneratorRingback(b *testing.B) {
	g := mustList(b, "400*16/1000,0/2000")
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		g.Read(frame)
	}
}

func BenchmarkGoertzelFrame(b *testing.B) {
	pcm := render(b, mustList(b, "1004"), 20*time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		Goertzel(pcm, 1004, DefaultSampleRate)
	}
}
