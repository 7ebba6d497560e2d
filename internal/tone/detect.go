package tone

import (
	"math"
	"time"
)

// Goertzel returns the power of the frequency freq (hertz) in samples taken
// at rate: the mean square of that component, so a sine of peak amplitude
// A that fills the block gives about A²/2, comparable with MeanSquare. The
// block's length sets the resolution (about rate/len(samples) hertz).
func Goertzel(samples []int16, freq float64, rate int) float64 {
	n := len(samples)
	if n == 0 || rate <= 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(n) * float64(n))
}

// MeanSquare is the mean square of samples (their total power).
func MeanSquare(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, x := range samples {
		sum += float64(x) * float64(x)
	}
	return sum / float64(len(samples))
}

// PowerDBm0 converts a mean square in 16-bit PCM to dBm0 (a sine at 0 dBm0
// has mean square Amplitude(0)²/2).
func PowerDBm0(meanSquare float64) float64 {
	if meanSquare <= 0 {
		return math.Inf(-1)
	}
	ref := Amplitude(0) * Amplitude(0) / 2
	return 10 * math.Log10(meanSquare/ref)
}

// Detector finds a frequency in audio, block by block.
type Detector struct {
	Freq float64 // hertz
	Rate int     // samples per second; 0 means 8000
	// Block is the analysis block (default 20 ms: 50 Hz resolution, enough
	// to tell 400 from 440 Hz and to keep 400*16 Hz's sidebands in the bin).
	Block time.Duration
	// MinLevel is the weakest tone counted as present (default −45 dBm0).
	MinLevel float64
	// MinShare is the least share of a block's power the frequency must
	// have (default 0.3: a mix of two equal tones still counts for each).
	MinShare float64
}

// Run is a stretch of blocks with the tone present (On) or absent.
type Run struct {
	On       bool
	Duration time.Duration
}

// Detection is what a Detector found.
type Detection struct {
	// Present is true when the tone was on in at least two blocks.
	Present bool
	// OnShare is the share of blocks with the tone on.
	OnShare float64
	// Level is the tone's mean level in dBm0 over the blocks it was on.
	Level float64
	// Runs is the cadence: alternating on and off stretches in order.
	Runs []Run
}

// Cadence returns the on/off durations after the first on-run starts,
// dropping the last run (usually cut off by the end of the recording).
func (d Detection) Cadence() []time.Duration {
	var out []time.Duration
	started := false
	for i, r := range d.Runs {
		if i == len(d.Runs)-1 {
			break
		}
		if r.On {
			started = true
		}
		if started {
			out = append(out, r.Duration)
		}
	}
	return out
}

// Detect analyses samples block by block.
func (d Detector) Detect(samples []int16) Detection {
	rate := d.Rate
	if rate <= 0 {
		rate = DefaultSampleRate
	}
	block := d.Block
	if block <= 0 {
		block = 20 * time.Millisecond
	}
	minLevel := d.MinLevel
	if minLevel == 0 {
		minLevel = -45
	}
	minShare := d.MinShare
	if minShare == 0 {
		minShare = 0.3
	}
	n := int(block.Seconds() * float64(rate))
	if n < 1 {
		n = 1
	}
	blockDur := time.Duration(n) * time.Second / time.Duration(rate)

	var det Detection
	var on, total int
	var levelSum float64
	for start := 0; start+n <= len(samples); start += n {
		b := samples[start : start+n]
		p := Goertzel(b, d.Freq, rate)
		all := MeanSquare(b)
		isOn := all > 0 && PowerDBm0(p) >= minLevel && p/all >= minShare
		total++
		if isOn {
			on++
			levelSum += p
		}
		if k := len(det.Runs); k > 0 && det.Runs[k-1].On == isOn {
			det.Runs[k-1].Duration += blockDur
		} else {
			det.Runs = append(det.Runs, Run{On: isOn, Duration: blockDur})
		}
	}
	if total > 0 {
		det.OnShare = float64(on) / float64(total)
	}
	det.Present = on >= 2
	det.Level = math.Inf(-1)
	if on > 0 {
		det.Level = PowerDBm0(levelSum / float64(on))
	}
	return det
}
