package tone

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func sine(freq, amp float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/DefaultSampleRate))
	}
	return out
}

func TestGoertzel(t *testing.T) {
	tests := []struct {
		name     string
		pcm      []int16
		freq     float64
		wantPow  float64 // mean square, ±2 %
		wantZero bool
	}{
		{name: "on bin", pcm: sine(1000, 10000, 800), freq: 1000, wantPow: 10000 * 10000 / 2},
		{name: "1004 Hz test tone", pcm: sine(1004, 8000, 1600), freq: 1004, wantPow: 8000 * 8000 / 2},
		{name: "other frequency", pcm: sine(1000, 10000, 800), freq: 2000, wantZero: true},
		{name: "silence", pcm: make([]int16, 160), freq: 400, wantZero: true},
		{name: "empty", pcm: nil, freq: 400, wantZero: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Goertzel(tt.pcm, tt.freq, DefaultSampleRate)
			if tt.wantZero {
				assert.Less(t, got, 1.0)
				return
			}
			assert.InEpsilon(t, tt.wantPow, got, 0.02)
			assert.InEpsilon(t, MeanSquare(tt.pcm), got, 0.02, "a pure tone's power is all its power")
		})
	}
	assert.Zero(t, Goertzel(sine(400, 1, 10), 400, 0))
	assert.True(t, math.IsInf(PowerDBm0(0), -1))
	assert.Zero(t, MeanSquare(nil))
}

func TestDetector(t *testing.T) {
	quiet := sine(400, Amplitude(-60), 8000)
	loud := sine(400, Amplitude(-10), 8000)
	mixed := append(append(sine(400, 5000, 4000), make([]int16, 4000)...), sine(400, 5000, 4000)...)
	noisy := make([]int16, 8000)
	for i := range noisy {
		// a 3 kHz square-ish tone: loud, but not 400 Hz
		noisy[i] = int16(10000 * math.Copysign(1, math.Sin(2*math.Pi*3000*float64(i)/8000)))
	}
	tests := []struct {
		name    string
		det     Detector
		pcm     []int16
		present bool
		runs    []Run
		cadence []time.Duration
	}{
		{name: "loud", det: Detector{Freq: 400}, pcm: loud, present: true, runs: []Run{{true, time.Second}}},
		{name: "too quiet", det: Detector{Freq: 400}, pcm: quiet, present: false},
		{name: "quiet with lower threshold", det: Detector{Freq: 400, MinLevel: -70}, pcm: quiet, present: true},
		{name: "cadence", det: Detector{Freq: 400}, pcm: mixed, present: true,
			runs:    []Run{{true, 500 * time.Millisecond}, {false, 500 * time.Millisecond}, {true, 500 * time.Millisecond}},
			cadence: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}},
		{name: "other tone", det: Detector{Freq: 400}, pcm: noisy, present: false},
		{name: "10 ms blocks", det: Detector{Freq: 400, Block: 10 * time.Millisecond}, pcm: loud, present: true, runs: []Run{{true, time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.det.Detect(tt.pcm)
			assert.Equal(t, tt.present, d.Present)
			if tt.runs != nil {
				assert.Equal(t, tt.runs, d.Runs)
			}
			if tt.cadence != nil {
				assert.Equal(t, tt.cadence, d.Cadence())
			}
		})
	}
	d := Detector{Freq: 400}.Detect(nil)
	assert.False(t, d.Present)
	assert.Empty(t, d.Cadence())
}
