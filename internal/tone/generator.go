package tone

import (
	"fmt"
	"math"
)

// Level references for 16-bit linear PCM that G.711 carries. A sine wave
// whose peak is full scale (32767) is +3.17 dBm0 (ITU-T G.711, the
// "digital milliwatt" is 0 dBm0).
const (
	// FullScaleDBm0 is the level of a full-scale sine.
	FullScaleDBm0 = 3.17
	// DefaultLevel is the level of each tone component unless WithLevel
	// says otherwise: about Asterisk's playtones volume (7219 peak).
	DefaultLevel = -10.0
	// DefaultSampleRate is the network side's rate (8 kHz G.711).
	DefaultSampleRate = 8000
)

// modulationDepth is the depth of "*" amplitude modulation. Asterisk's
// playtones uses 90 %; a full 100 % would leave gaps that some detectors
// read as cadence.
const modulationDepth = 0.9

// Amplitude converts a level in dBm0 to the peak amplitude of a sine in
// 16-bit PCM.
func Amplitude(dBm0 float64) float64 {
	return 32767 * math.Pow(10, (dBm0-FullScaleDBm0)/20)
}

// LevelOf converts a sine's peak amplitude in 16-bit PCM to dBm0.
func LevelOf(amplitude float64) float64 {
	if amplitude <= 0 {
		return math.Inf(-1)
	}
	return 20*math.Log10(amplitude/32767) + FullScaleDBm0
}

// Option configures a Generator.
type Option func(*genConfig) error

type genConfig struct {
	rate  int
	level float64
}

// WithLevel sets the level of each component in dBm0 (at most +3.17, full
// scale). Two added components ("+") are each at this level.
func WithLevel(dBm0 float64) Option {
	return func(c *genConfig) error {
		if math.IsNaN(dBm0) || dBm0 > FullScaleDBm0 {
			return fmt.Errorf("tone level %.2f dBm0 is above full scale (%.2f dBm0)", dBm0, FullScaleDBm0)
		}
		c.level = dBm0
		return nil
	}
}

// WithSampleRate sets the output sample rate in hertz (default 8000).
func WithSampleRate(hz int) Option {
	return func(c *genConfig) error {
		if hz < 1000 || hz > 192000 {
			return fmt.Errorf("sample rate %d Hz is outside 1000–192000", hz)
		}
		c.rate = hz
		return nil
	}
}

// Generator renders a tonelist's segments as 16-bit PCM, frame by frame,
// repeating the cadence until stopped. Items marked Once ("!") play on the
// first pass only; a list made only of such items ends after one pass. A
// segment of zero duration lasts for ever. Not safe for concurrent use.
type Generator struct {
	segs []Segment
	lens []int // each segment's length in samples; 0 = for ever
	rate float64
	amp  float64

	idx       int  // current segment
	pos       int  // samples played of the current segment
	firstPass bool // Once items still play
	done      bool
	phase1    float64 // radians, kept across frames for a click-free tone
	phase2    float64
}

// NewGenerator makes a generator for segments (see ParseList).
func NewGenerator(segs []Segment, opts ...Option) (*Generator, error) {
	cfg := genConfig{rate: DefaultSampleRate, level: DefaultLevel}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("tone generator: no segments")
	}
	nyquist := float64(cfg.rate) / 2
	g := &Generator{
		segs: append([]Segment(nil), segs...),
		lens: make([]int, len(segs)),
		rate: float64(cfg.rate),
		amp:  Amplitude(cfg.level),
	}
	for i, s := range segs {
		if s.Freq1 < 0 || s.Freq2 < 0 || s.Freq1 >= nyquist || s.Freq2 >= nyquist || s.Duration < 0 {
			return nil, fmt.Errorf("tone generator: segment %d (%+v) is outside 0–%.0f Hz", i+1, s, nyquist)
		}
		g.lens[i] = int(s.Duration.Seconds()*g.rate + 0.5)
		if s.Duration > 0 && g.lens[i] == 0 {
			g.lens[i] = 1
		}
	}
	g.Reset()
	return g, nil
}

// FromList parses an Asterisk tonelist and makes its generator.
func FromList(list string, opts ...Option) (*Generator, error) {
	segs, err := ParseList(list)
	if err != nil {
		return nil, err
	}
	return NewGenerator(segs, opts...)
}

// Reset starts the tone again from its first item.
func (g *Generator) Reset() {
	g.idx, g.pos, g.firstPass, g.done = 0, 0, true, false
	g.phase1, g.phase2 = 0, 0
	g.skipOnce()
}

// Done reports whether a tone made only of once-only items has ended.
func (g *Generator) Done() bool { return g.done }

// Read fills frame with the next samples and returns how many it wrote:
// len(frame), or fewer (zeros after them) once the tone has ended.
func (g *Generator) Read(frame []int16) int {
	n := 0
	for n < len(frame) && !g.done {
		seg := g.segs[g.idx]
		run := len(frame) - n
		if l := g.lens[g.idx]; l > 0 && l-g.pos < run {
			run = l - g.pos
		}
		g.render(seg, frame[n:n+run])
		n += run
		g.pos += run
		if l := g.lens[g.idx]; l > 0 && g.pos >= l {
			g.advance()
		}
	}
	clear(frame[n:])
	return n
}

func (g *Generator) render(seg Segment, out []int16) {
	n := float64(len(out))
	w1 := 2 * math.Pi * seg.Freq1 / g.rate
	w2 := 2 * math.Pi * seg.Freq2 / g.rate
	switch {
	case seg.Freq1 == 0 && seg.Freq2 == 0:
		clear(out)
	case seg.Modulate:
		o1, o2 := newOsc(g.phase1, w1), newOsc(g.phase2, w2)
		for i := range out {
			// Normalised so the peak stays at the set level.
			env := (1 + modulationDepth*o2.sin) / (1 + modulationDepth)
			out[i] = clip16(g.amp * env * o1.sin)
			o1.step()
			o2.step()
		}
	case seg.Freq2 == 0 || seg.Freq1 == 0:
		// One component (the commonest tone): one oscillator.
		o := newOsc(g.phase1, w1)
		if seg.Freq1 == 0 {
			o = newOsc(g.phase2, w2)
		}
		for i := range out {
			out[i] = clip16(g.amp * o.sin)
			o.step()
		}
	default:
		o1, o2 := newOsc(g.phase1, w1), newOsc(g.phase2, w2)
		for i := range out {
			out[i] = clip16(g.amp*o1.sin + g.amp*o2.sin)
			o1.step()
			o2.step()
		}
	}
	// Keep the phases small so precision does not decay on long tones.
	g.phase1 = math.Mod(g.phase1+n*w1, 2*math.Pi)
	g.phase2 = math.Mod(g.phase2+n*w2, 2*math.Pi)
}

// osc is a sine by rotation: each step turns (cos, sin) by w with one
// complex multiplication instead of a math.Sin call a sample. Started
// afresh from the exact phase on every render (one run of a Read), its
// rounding error stays near 1e-14, far below a 16-bit sample's step.
type osc struct {
	sin, cos   float64
	sinW, cosW float64
}

func newOsc(phase, w float64) osc {
	var o osc
	o.sin, o.cos = math.Sincos(phase)
	o.sinW, o.cosW = math.Sincos(w)
	return o
}

func (o *osc) step() {
	o.sin, o.cos = o.sin*o.cosW+o.cos*o.sinW, o.cos*o.cosW-o.sin*o.sinW
}

// advance moves to the next playable segment, wrapping to the start (and
// leaving the first pass) at the end of the list.
func (g *Generator) advance() {
	g.pos = 0
	g.idx++
	g.skipOnce()
}

func (g *Generator) skipOnce() {
	for wrapped := 0; ; {
		if g.idx >= len(g.segs) {
			g.idx = 0
			g.firstPass = false
			wrapped++
			if wrapped > 1 {
				g.done = true
				return
			}
		}
		if g.firstPass || !g.segs[g.idx].Once {
			return
		}
		g.idx++
	}
}

func clip16(v float64) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}
