package media

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			pcm := make([]int16, 160)
			for i := range pcm {
				pcm[i] = int16(10000 * math.Sin(2*math.Pi*1004*float64(i)/8000))
			}
			enc := c.Encode(nil, pcm)
			require.Len(t, enc, 160)
			out := make([]int16, 160)
			require.Equal(t, 160, c.Decode(out, enc))
			for i := range pcm {
				// G.711 keeps about 3 % of the amplitude at this level.
				assert.InDelta(t, pcm[i], out[i], 400, "sample %d", i)
			}
			assert.Equal(t, 2, c.Decode(make([]int16, 2), enc), "dst bounds the count")
		})
	}
	assert.Equal(t, "Codec(3)", Codec(3).String())
	// μ-law silence is 0xFF, A-law 0xD5: peers that see 0x00 hear noise.
	assert.Equal(t, []byte{0xff}, PCMU.Encode(nil, []int16{0}))
	assert.Equal(t, []byte{0xd5}, PCMA.Encode(nil, []int16{0}))
}

func TestGain(t *testing.T) {
	tests := []struct {
		name string
		g    Gain
		in   []int16
		want []int16
	}{
		{name: "unity", g: GainDB(0), in: []int16{100, -100}, want: []int16{100, -100}},
		{name: "zero value is unity", g: 0, in: []int16{100}, want: []int16{100}},
		{name: "+6 dB", g: GainDB(6.0206), in: []int16{100, -100}, want: []int16{200, -200}},
		{name: "-6 dB", g: GainDB(-6.0206), in: []int16{100}, want: []int16{50}},
		{name: "clips", g: GainDB(20), in: []int16{10000, -10000}, want: []int16{32767, -32768}},
		{name: "NaN is unity", g: GainDB(math.NaN()), in: []int16{7}, want: []int16{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.g.Apply(tt.in)
			assert.Equal(t, tt.want, tt.in)
		})
	}
}

func TestEvents(t *testing.T) {
	tests := []struct {
		digit byte
		code  uint8
	}{
		{'0', 0}, {'9', 9}, {'*', 10}, {'#', 11}, {'A', 12}, {'D', 15},
	}
	for _, tt := range tests {
		code, err := DigitCode(tt.digit)
		require.NoError(t, err)
		assert.Equal(t, tt.code, code)
		d, ok := CodeDigit(tt.code)
		assert.True(t, ok)
		assert.Equal(t, tt.digit, d)
	}
	code, err := DigitCode('b')
	require.NoError(t, err)
	assert.Equal(t, uint8(13), code)
	for _, bad := range []byte{'E', 'x', ' ', 0} {
		_, err := DigitCode(bad)
		assert.Error(t, err, "%q", bad)
	}
	_, ok := CodeDigit(EventFlash)
	assert.False(t, ok, "flash is not a digit")

	ev := Event{Code: 12, End: true, Volume: 10, Duration: 800}
	b := ev.Append(nil)
	assert.Equal(t, []byte{12, 0x8a, 0x03, 0x20}, b)
	back, err := ParseEvent(b)
	require.NoError(t, err)
	assert.Equal(t, ev, back)
	_, err = ParseEvent(b[:3])
	assert.Error(t, err)
	// R bit and oversized volume are masked off.
	back, err = ParseEvent([]byte{1, 0x7f, 0, 160})
	require.NoError(t, err)
	assert.Equal(t, Event{Code: 1, Volume: 63, Duration: 160}, back)
}
