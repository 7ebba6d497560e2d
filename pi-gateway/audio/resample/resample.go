// Package resample converts 16-bit mono audio between sample rates with a
// rational polyphase filter (a Kaiser-windowed sinc), for sound cards that
// only run at 48 or 44.1 kHz while the network side wants 8 kHz.
//
// The filter passes up to 300 Hz below the lower Nyquist frequency (3.7 kHz
// for 8 kHz: the telephone band ends at 3.4 kHz) and attenuates by 70 dB
// from 300 Hz above it; what aliases lands above 3.7 kHz. Its group delay
// is about 3 ms whichever way it converts.
package resample

import (
	"errors"
	"fmt"
	"math"
	"time"
)

const (
	attenuation = 70.0  // stop-band attenuation, dB
	transition  = 600.0 // transition band width, Hz, centred on the lower Nyquist
)

// ErrRate is wrapped for unusable rates.
var ErrRate = errors.New("resample: unsupported rates")

// Resampler converts one stream. It is not safe for concurrent use.
type Resampler struct {
	in, out int
	l, m    int       // up by l, down by m
	taps    int       // taps per phase
	h       []float32 // prototype filter, l*taps long, phase p at h[p*taps:]
	hist    []float32 // the last taps-1 input samples
	t       int       // position of the next output, in 1/l input samples from the block start
	buf     []float32
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// New returns a Resampler from rate in to rate out (Hz).
func New(in, out int) (*Resampler, error) {
	if in <= 0 || out <= 0 || in > 384000 || out > 384000 {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz", ErrRate, in, out)
	}
	g := gcd(in, out)
	l, m := out/g, in/g
	if l > 1000 {
		return nil, fmt.Errorf("%w: %d Hz to %d Hz needs %d phases", ErrRate, in, out, l)
	}
	r := &Resampler{in: in, out: out, l: l, m: m}
	nyq := float64(min(in, out)) / 2
	fc := (nyq - transition/2) / float64(in) // cutoff in cycles per input sample
	// Kaiser's estimate of the length for the attenuation and transition.
	dw := 2 * math.Pi * transition / float64(in)
	r.taps = int(math.Ceil((attenuation - 8) / (2.285 * dw)))
	if r.taps < 4 {
		r.taps = 4
	}
	if in == out {
		r.taps = 1
	}
	beta := 0.1102 * (attenuation - 8.7)
	n := r.taps * l
	mid := float64(n-1) / 2
	i0b := bessel0(beta)
	r.h = make([]float32, n)
	for i := range n {
		// Prototype tap i sits at x input samples from the centre.
		x := (float64(i) - mid) / float64(l)
		v := 2 * fc * sinc(2*fc*x)
		w := bessel0(beta*math.Sqrt(max(0, 1-math.Pow((float64(i)-mid)/mid, 2)))) / i0b
		if n == 1 {
			v, w = 1, 1
		}
		// Phase p uses prototype taps p, p+l, p+2l, …; store them together.
		p, j := i%l, i/l
		r.h[p*r.taps+j] = float32(v * w)
	}
	r.hist = make([]float32, r.taps-1)
	return r, nil
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-12 {
			break
		}
	}
	return sum
}

// Delay is the filter's group delay.
func (r *Resampler) Delay() time.Duration {
	return time.Duration(float64(r.taps-1) / 2 / float64(r.in) * float64(time.Second))
}

// Rates returns the input and output rates.
func (r *Resampler) Rates() (in, out int) { return r.in, r.out }

// OutLen is how many samples the next Process of n input samples may
// append, at most.
func (r *Resampler) OutLen(n int) int { return (n*r.l-r.t)/r.m + 2 }

// Process appends to dst the output for src and returns it.
func (r *Resampler) Process(dst, src []int16) []int16 {
	if len(src) == 0 {
		return dst
	}
	// buf holds the history, then src, as floats.
	r.buf = append(r.buf[:0], r.hist...)
	for _, s := range src {
		r.buf = append(r.buf, float32(s))
	}
	last := r.taps - 1
	for {
		n := r.t / r.l // newest input sample of this output, in src
		if n >= len(src) {
			break
		}
		h := r.h[(r.t%r.l)*r.taps:][:r.taps]
		x := r.buf[n : n+r.taps] // x[last] is src[n], x[0] the oldest
		var acc float32
		for j, c := range h {
			acc += c * x[last-j]
		}
		dst = append(dst, clamp(acc))
		r.t += r.m
	}
	r.t -= len(src) * r.l
	copy(r.hist, r.buf[len(r.buf)-last:])
	return dst
}

func clamp(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(float64(v)))
}

// Reset forgets the history, as after a gap in the stream.
func (r *Resampler) Reset() {
	clear(r.hist)
	r.t = 0
}
