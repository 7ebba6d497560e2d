package pulse_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

func TestGeneratorTrain(t *testing.T) {
	g := pulse.Generator{PPS: 10, MakeRatio: 0.4, Pause: 700 * ms}
	edges, err := g.Train(3, time.Second)
	require.NoError(t, err)
	want := []pulse.Edge{
		{State: pulse.Break, At: time.Second}, {State: pulse.Make, At: time.Second + 60*ms},
		{State: pulse.Break, At: time.Second + 100*ms}, {State: pulse.Make, At: time.Second + 160*ms},
		{State: pulse.Break, At: time.Second + 200*ms}, {State: pulse.Make, At: time.Second + 260*ms},
	}
	assert.Equal(t, want, edges)

	edges, err = g.Train(0, 0)
	require.NoError(t, err)
	assert.Len(t, edges, 20)
}

func TestGeneratorDial(t *testing.T) {
	g := pulse.Generator{PPS: 20, MakeRatio: 0.3, Pause: 500 * ms}
	edges, end, err := g.Dial("21", 0)
	require.NoError(t, err)
	want := []pulse.Edge{
		{State: pulse.Break, At: 0}, {State: pulse.Make, At: 35 * ms},
		{State: pulse.Break, At: 50 * ms}, {State: pulse.Make, At: 85 * ms},
		{State: pulse.Break, At: 585 * ms}, {State: pulse.Make, At: 620 * ms},
	}
	assert.Equal(t, want, edges)
	assert.Equal(t, 1120*ms, end)

	edges, end, err = g.Dial("", time.Second)
	require.NoError(t, err)
	assert.Empty(t, edges)
	assert.Equal(t, time.Second, end)
}

func TestGeneratorErrors(t *testing.T) {
	good := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate10PPS())
	require.NoError(t, good.Validate())
	tests := []struct {
		name string
		g    pulse.Generator
	}{
		{"zero value", pulse.Generator{}},
		{"negative pps", pulse.Generator{PPS: -1, MakeRatio: 0.3}},
		{"ratio 1", pulse.Generator{PPS: 10, MakeRatio: 1}},
		{"negative pause", pulse.Generator{PPS: 10, MakeRatio: 0.3, Pause: -1}},
		{"bad encoding", pulse.Generator{PPS: 10, MakeRatio: 0.3, Encoding: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.g.Validate(), pulse.ErrGenerator)
			_, err := tt.g.Train(1, 0)
			require.ErrorIs(t, err, pulse.ErrGenerator)
			_, _, err = tt.g.Dial("1", 0)
			require.ErrorIs(t, err, pulse.ErrGenerator)
		})
	}
	_, err := good.Train(10, 0)
	require.ErrorIs(t, err, pulse.ErrGenerator)
	_, _, err = good.Dial("12#", 0)
	require.ErrorIs(t, err, pulse.ErrGenerator)
	require.ErrorContains(t, err, "index 2")
}

// TestRoundTrip dials long numbers through both generators presets and
// every encoding.
func TestRoundTrip(t *testing.T) {
	const number = "09012345678"
	for _, enc := range []pulse.Encoding{pulse.EncodingStandard, pulse.EncodingSweden, pulse.EncodingNewZealand} {
		for _, rate := range []pulse.Rate{pulse.Rate10PPS(), pulse.Rate20PPS()} {
			t.Run(enc.String()+"/"+rate.Name, func(t *testing.T) {
				cfg := pulse.DefaultJapan()
				cfg.Encoding = enc
				edges, end, err := pulse.GeneratorFor(enc, rate).Dial(number, start+time.Second)
				require.NoError(t, err)
				assert.Equal(t, number, digitsOf(feed(offHook(t, cfg), edges, end)))
			})
		}
	}
}
