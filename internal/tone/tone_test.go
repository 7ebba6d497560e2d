package tone

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		in   string
		want []Segment
		err  string
	}{
		{in: "400", want: []Segment{{Freq1: 400}}},
		{in: "400*16/1000,0/2000", want: []Segment{{Freq1: 400, Freq2: 16, Modulate: true, Duration: time.Second}, {Duration: 2 * time.Second}}},
		{in: "480+620/500, 0/500", want: []Segment{{Freq1: 480, Freq2: 620, Duration: 500 * time.Millisecond}, {Duration: 500 * time.Millisecond}}},
		{in: "!400/200,400", want: []Segment{{Freq1: 400, Duration: 200 * time.Millisecond, Once: true}, {Freq1: 400}}},
		{in: "", err: "empty"},
		{in: "400/abc", err: `item 1 "400/abc": duration`},
		{in: "400+", err: "frequency"},
		{in: "99999", err: "frequency"},
		{in: "M60", err: "frequency"},
		{in: "400,,0", err: "item 2"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseList(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// Every tone of every zone must parse: indications.conf and the gateway's
// generator both rely on it.
func TestZonesParse(t *testing.T) {
	for _, z := range Zones() {
		require.NotEmpty(t, z.RingCadence, z.Name)
		for _, name := range []string{Dial, Busy, Ring, Congestion, Hangup} {
			_, ok := z.Tone(name)
			require.True(t, ok, "%s lacks %s", z.Name, name)
		}
		for _, name := range z.ToneNames() {
			_, err := ParseList(z.Tones[name])
			require.NoError(t, err, "%s %s", z.Name, name)
		}
	}
}

func TestJapanRingbackModulates(t *testing.T) {
	z, err := Lookup("jp")
	require.NoError(t, err)
	segs, err := ParseList(z.Tones[Ring])
	require.NoError(t, err)
	assert.True(t, segs[0].Modulate, "Japanese ringback is 400 Hz modulated by 16 Hz, not 400+15")
	assert.Equal(t, 16.0, segs[0].Freq2)
	_, err = Lookup("xx")
	assert.ErrorContains(t, err, `unknown tone zone "xx"`)
}

func FuzzParseList(f *testing.F) {
	for _, z := range Zones() {
		for _, t := range z.Tones {
			f.Add(t)
		}
	}
	f.Add("!0/0,+*/,")
	f.Fuzz(func(t *testing.T, s string) {
		segs, err := ParseList(s)
		if err != nil {
			return
		}
		for _, seg := range segs {
			if seg.Freq1 < 0 || seg.Freq1 > 20000 || seg.Duration < 0 || seg.Duration > time.Minute {
				t.Fatalf("out of range segment %+v from %q", seg, s)
			}
		}
	})
}
