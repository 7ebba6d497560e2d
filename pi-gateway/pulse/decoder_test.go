package pulse_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

const ms = time.Millisecond

// start is an arbitrary epoch offset so that no test relies on zero time.
const start = 10 * time.Second

// offHook returns a decoder for a loop that has been closed since start.
func offHook(t testing.TB, cfg pulse.Config) *pulse.Decoder {
	t.Helper()
	d, err := pulse.NewDecoder(cfg, pulse.Make, start)
	require.NoError(t, err)
	return d
}

// feed plays edges into d, then ticks at end, and returns every event.
func feed(d *pulse.Decoder, edges []pulse.Edge, end time.Duration) []pulse.Event {
	var out []pulse.Event
	for _, e := range edges {
		out = append(out, d.Edge(e.State, e.At)...)
	}
	return append(out, d.Tick(end)...)
}

// pulses builds n pulses with the given break and make, starting at at.
func pulses(n int, brk, mk, at time.Duration) []pulse.Edge {
	var edges []pulse.Edge
	for range n {
		edges = append(edges, pulse.Edge{State: pulse.Break, At: at}, pulse.Edge{State: pulse.Make, At: at + brk})
		at += brk + mk
	}
	return edges
}

func kinds(evs []pulse.Event) []pulse.Kind {
	var ks []pulse.Kind
	for _, e := range evs {
		ks = append(ks, e.Kind)
	}
	return ks
}

func digitsOf(evs []pulse.Event) string {
	var s []byte
	for _, e := range evs {
		switch e.Kind {
		case pulse.KindDigit:
			s = append(s, byte('0'+e.Digit))
		default:
			s = append(s, '!')
		}
	}
	return string(s)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*pulse.Config)
	}{
		{"unknown encoding", func(c *pulse.Config) { c.Encoding = 9 }},
		{"no rates", func(c *pulse.Config) { c.Rates = nil }},
		{"negative debounce", func(c *pulse.Config) { c.Debounce = -1 }},
		{"debounce swallows 20pps makes", func(c *pulse.Config) { c.Debounce = 14 * ms }},
		{"reversed flash window", func(c *pulse.Config) { c.FlashMin, c.FlashMax = 900*ms, 200*ms }},
		{"flash overlaps 10pps breaks", func(c *pulse.Config) { c.FlashMin = 70 * ms }},
		{"train gap below pulse make", func(c *pulse.Config) { c.TrainGap = 40 * ms }},
		{"train gap above inter-digit", func(c *pulse.Config) { c.TrainGap = 500 * ms }},
		{"zero pps", func(c *pulse.Config) { c.Rates[0].PPS = 0 }},
		{"tolerance ≥ pps", func(c *pulse.Config) { c.Rates[0].Tolerance = 10 }},
		{"make ratio reversed", func(c *pulse.Config) { c.Rates[1].MakeMin, c.Rates[1].MakeMax = 0.4, 0.3 }},
		{"make ratio 1", func(c *pulse.Config) { c.Rates[1].MakeMax = 1 }},
		{"zero inter-digit", func(c *pulse.Config) { c.Rates[0].InterDigit = 0 }},
	}
	require.NoError(t, pulse.DefaultJapan().Validate())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := pulse.DefaultJapan()
			tt.modify(&cfg)
			err := cfg.Validate()
			require.ErrorIs(t, err, pulse.ErrConfig)
			_, err = pulse.NewDecoder(cfg, pulse.Make, 0)
			require.ErrorIs(t, err, pulse.ErrConfig)
		})
	}
	_, err := pulse.NewDecoder(pulse.DefaultJapan(), 0, 0)
	require.ErrorIs(t, err, pulse.ErrConfig)
}

func TestRateLimits(t *testing.T) {
	r10, r20 := pulse.Rate10PPS(), pulse.Rate20PPS()
	// The break lengths quoted for Japan: ~58–70 ms at 10 pps, ~32 ms at 20.
	assert.InDelta(t, 52.7, r10.MinBreak().Seconds()*1000, 0.1)
	assert.InDelta(t, 77.8, r10.MaxBreak().Seconds()*1000, 0.1)
	assert.InDelta(t, 29.6, r20.MinBreak().Seconds()*1000, 0.1)
	assert.InDelta(t, 38.0, r20.MaxBreak().Seconds()*1000, 0.1)
	assert.InDelta(t, 90.9, r10.MinPeriod().Seconds()*1000, 0.1)
	assert.InDelta(t, 111.1, r10.MaxPeriod().Seconds()*1000, 0.1)
}

func TestEncoding(t *testing.T) {
	tests := []struct {
		enc    pulse.Encoding
		pulses [10]int // pulses for digits 0..9
	}{
		{pulse.EncodingStandard, [10]int{10, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{pulse.EncodingSweden, [10]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{pulse.EncodingNewZealand, [10]int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.enc.String(), func(t *testing.T) {
			for digit, n := range tt.pulses {
				got, ok := tt.enc.Pulses(digit)
				require.True(t, ok)
				assert.Equal(t, n, got, "pulses for %d", digit)
				back, ok := tt.enc.Digit(n)
				require.True(t, ok)
				assert.Equal(t, digit, back, "digit for %d pulses", n)
			}
			for _, bad := range []int{-1, 10} {
				_, ok := tt.enc.Pulses(bad)
				assert.False(t, ok)
			}
			for _, bad := range []int{0, 11} {
				_, ok := tt.enc.Digit(bad)
				assert.False(t, ok)
			}
		})
	}
}

// TestDigitsAcrossRange dials every digit at the edges and middle of each
// Japanese speed and make-ratio range.
func TestDigitsAcrossRange(t *testing.T) {
	cfg := pulse.DefaultJapan()
	tests := []struct {
		rate   pulse.Rate
		speeds []float64
	}{
		{pulse.Rate10PPS(), []float64{9, 10, 11}},
		{pulse.Rate20PPS(), []float64{18.4, 20, 21.6}},
	}
	for _, tt := range tests {
		ratios := []float64{tt.rate.MakeMin, (tt.rate.MakeMin + tt.rate.MakeMax) / 2, tt.rate.MakeMax}
		for _, pps := range tt.speeds {
			for _, ratio := range ratios {
				for digit := range 10 {
					name := fmt.Sprintf("%.1fpps/make%.0f%%/digit%d", pps, ratio*100, digit)
					t.Run(name, func(t *testing.T) {
						g := pulse.Generator{PPS: pps, MakeRatio: ratio, Pause: tt.rate.InterDigit}
						edges, end, err := g.Dial(string(rune('0'+digit)), start+time.Second)
						require.NoError(t, err)
						evs := feed(offHook(t, cfg), edges, end)
						require.Len(t, evs, 1, "%v", evs)
						ev := evs[0]
						assert.Equal(t, pulse.KindDigit, ev.Kind, "%v", ev)
						assert.Equal(t, digit, ev.Digit)
						assert.Equal(t, tt.rate.Name, ev.Rate)
						assert.Equal(t, start+time.Second, ev.At)
						n, _ := pulse.EncodingStandard.Pulses(digit)
						assert.Equal(t, n, ev.Pulses)
						if n > 1 {
							assert.InDelta(t, pps, ev.PPS, 1e-6)
							assert.InDelta(t, ratio, ev.MakeRatio, 1e-6)
						}
					})
				}
			}
		}
	}
}

// TestOutOfRange dials just outside each limit. Digit 5 has four full
// periods, so speed and make ratio can be judged.
func TestOutOfRange(t *testing.T) {
	tests := []struct {
		name     string
		pps      float64
		ratio    float64
		wantRate string
		want     pulse.Reason
	}{
		{"8.9 pps", 8.9, 0.36, "10pps", pulse.ReasonSpeed},
		{"11.1 pps", 11.1, 0.36, "10pps", pulse.ReasonSpeed},
		{"10 pps make 29%", 10, 0.29, "10pps", pulse.ReasonMakeRatio},
		{"10 pps make 43%", 10, 0.43, "10pps", pulse.ReasonMakeRatio},
		{"18.3 pps", 18.3, 0.33, "20pps", pulse.ReasonSpeed},
		{"21.7 pps", 21.7, 0.33, "20pps", pulse.ReasonSpeed},
		{"20 pps make 29%", 20, 0.29, "20pps", pulse.ReasonMakeRatio},
		{"20 pps make 37%", 20, 0.37, "20pps", pulse.ReasonMakeRatio},
		{"15 pps, between the rates", 15, 0.33, "20pps", pulse.ReasonSpeed},
		{"7 pps, a slow dial", 7, 0.36, "10pps", pulse.ReasonSpeed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := pulse.Generator{PPS: tt.pps, MakeRatio: tt.ratio, Pause: 800 * ms}
			edges, end, err := g.Dial("5", start+time.Second)
			require.NoError(t, err)
			evs := feed(offHook(t, pulse.DefaultJapan()), edges, end)
			require.Len(t, evs, 1, "%v", evs)
			assert.Equal(t, pulse.KindError, evs[0].Kind)
			assert.Equal(t, tt.want, evs[0].Reason, "%v", evs[0])
			assert.Equal(t, tt.wantRate, evs[0].Rate)
			assert.Equal(t, 5, evs[0].Pulses)
		})
	}
}

// TestSinglePulse: a one-pulse digit has no period, so only its break
// length is judged.
func TestSinglePulse(t *testing.T) {
	tests := []struct {
		brk  time.Duration
		want string // digit or "!" for an error
		rate string
	}{
		{25 * ms, "!", "20pps"},
		{30 * ms, "1", "20pps"},
		{38 * ms, "1", "20pps"},
		{45 * ms, "!", ""},
		{53 * ms, "1", "10pps"},
		{64 * ms, "1", "10pps"},
		{77 * ms, "1", "10pps"},
		{79 * ms, "!", "10pps"},
		{99 * ms, "!", "10pps"},
	}
	for _, tt := range tests {
		t.Run(tt.brk.String(), func(t *testing.T) {
			at := start + time.Second
			evs := feed(offHook(t, pulse.DefaultJapan()), pulses(1, tt.brk, 0, at), at+2*time.Second)
			require.Len(t, evs, 1)
			assert.Equal(t, tt.want, digitsOf(evs))
			if tt.want == "!" {
				assert.Equal(t, pulse.ReasonBreak, evs[0].Reason)
			}
			if tt.rate != "" {
				assert.Equal(t, tt.rate, evs[0].Rate)
			}
		})
	}
}

func TestTooManyPulses(t *testing.T) {
	at := start + time.Second
	evs := feed(offHook(t, pulse.DefaultJapan()), pulses(11, 64*ms, 36*ms, at), at+3*time.Second)
	require.Len(t, evs, 1)
	assert.Equal(t, pulse.ReasonTooManyPulses, evs[0].Reason)
	assert.Equal(t, 11, evs[0].Pulses)
}

func TestInterDigitPause(t *testing.T) {
	cfg := pulse.DefaultJapan()
	tests := []struct {
		name  string
		rate  pulse.Rate
		pause time.Duration
		want  string
	}{
		{"10pps at the minimum", pulse.Rate10PPS(), 600 * ms, "35"},
		{"10pps 1 ms short", pulse.Rate10PPS(), 599 * ms, "!5"},
		{"10pps far too short", pulse.Rate10PPS(), 300 * ms, "!5"},
		{"20pps at the minimum", pulse.Rate20PPS(), 450 * ms, "35"},
		{"20pps 1 ms short", pulse.Rate20PPS(), 449 * ms, "!5"},
		// Below TrainGap the trains merge into eight pulses with one long
		// make, which no rate accepts.
		{"10pps merged trains", pulse.Rate10PPS(), 150 * ms, "!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := pulse.GeneratorFor(pulse.EncodingStandard, tt.rate)
			g.Pause = tt.pause
			edges, end, err := g.Dial("35", start+time.Second)
			require.NoError(t, err)
			evs := feed(offHook(t, cfg), edges, end+time.Second)
			assert.Equal(t, tt.want, digitsOf(evs), "%v", evs)
			if tt.want[0] == '!' {
				assert.Equal(t, start+time.Second, evs[0].At)
			}
			if tt.want == "!5" {
				assert.Equal(t, pulse.ReasonInterDigit, evs[0].Reason)
				assert.Equal(t, 3, evs[0].Pulses)
			}
		})
	}
}

func TestFlashAndHook(t *testing.T) {
	tests := []struct {
		name string
		brk  time.Duration
		want []pulse.Kind
	}{
		{"just below flash is a bad pulse", 99 * ms, []pulse.Kind{pulse.KindError}},
		{"flash minimum", 100 * ms, []pulse.Kind{pulse.KindFlash}},
		{"flash", 500 * ms, []pulse.Kind{pulse.KindFlash}},
		{"flash maximum", 1000 * ms, []pulse.Kind{pulse.KindFlash}},
		{"just above flash is on-hook", 1000*ms + 1, []pulse.Kind{pulse.KindOnHook, pulse.KindOffHook}},
		{"hang up and pick up", 5 * time.Second, []pulse.Kind{pulse.KindOnHook, pulse.KindOffHook}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := start + time.Second
			edges := []pulse.Edge{{State: pulse.Break, At: at}, {State: pulse.Make, At: at + tt.brk}}
			evs := feed(offHook(t, pulse.DefaultJapan()), edges, at+tt.brk+2*time.Second)
			require.Equal(t, tt.want, kinds(evs), "%v", evs)
			assert.Equal(t, at, evs[0].At)
			if len(evs) == 2 {
				assert.Equal(t, at+tt.brk, evs[1].At)
			}
		})
	}
}

func TestOnHookBySilence(t *testing.T) {
	d := offHook(t, pulse.DefaultJapan())
	at := start + time.Second
	require.Empty(t, d.Edge(pulse.Break, at))
	require.Empty(t, d.Tick(at+time.Second), "a 1000 ms break is still a flash")
	dl, ok := d.Deadline()
	require.True(t, ok)
	assert.Equal(t, at+time.Second+1, dl)
	evs := d.Tick(dl)
	require.Equal(t, []pulse.Kind{pulse.KindOnHook}, kinds(evs))
	assert.Equal(t, at, evs[0].At)
	level, hook := d.State()
	assert.Equal(t, pulse.Break, level)
	assert.True(t, hook)
	_, ok = d.Deadline()
	assert.False(t, ok, "on hook, only an edge can change anything")

	evs = d.Edge(pulse.Make, at+3*time.Second)
	assert.Empty(t, evs, "the make is not yet debounced")
	evs = d.Tick(at + 3*time.Second + 10*ms)
	require.Equal(t, []pulse.Kind{pulse.KindOffHook}, kinds(evs))
	assert.Equal(t, at+3*time.Second, evs[0].At)
}

func TestStartOnHook(t *testing.T) {
	d, err := pulse.NewDecoder(pulse.DefaultJapan(), pulse.Break, start)
	require.NoError(t, err)
	g := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate10PPS())
	edges, end, err := g.Dial("119", start+2*time.Second)
	require.NoError(t, err)
	edges = append([]pulse.Edge{{State: pulse.Make, At: start + time.Second}}, edges...)
	evs := feed(d, edges, end)
	assert.Equal(t, []pulse.Kind{pulse.KindOffHook, pulse.KindDigit, pulse.KindDigit, pulse.KindDigit}, kinds(evs))
	assert.Equal(t, "!119", digitsOf(evs))
}

func TestDigitThenHangUp(t *testing.T) {
	g := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate10PPS())
	edges, _, err := g.Dial("2", start+time.Second)
	require.NoError(t, err)
	last := edges[len(edges)-1].At
	edges = append(edges, pulse.Edge{State: pulse.Break, At: last + 300*ms})
	evs := feed(offHook(t, pulse.DefaultJapan()), edges, last+3*time.Second)
	require.Equal(t, []pulse.Kind{pulse.KindError, pulse.KindOnHook}, kinds(evs), "%v", evs)
	assert.Equal(t, pulse.ReasonInterDigit, evs[0].Reason)
}

// TestTrainCutByFlash: a flash 30 ms after the last pulse leaves the
// digit no pause at all.
func TestTrainCutByFlash(t *testing.T) {
	at := start + time.Second
	edges := pulses(3, 64*ms, 36*ms, at)
	edges = edges[:len(edges)-1]
	edges = append(edges, pulse.Edge{State: pulse.Make, At: at + 264*ms}, pulse.Edge{State: pulse.Break, At: at + 300*ms},
		pulse.Edge{State: pulse.Make, At: at + 700*ms})
	evs := feed(offHook(t, pulse.DefaultJapan()), edges, at+2*time.Second)
	require.Equal(t, []pulse.Kind{pulse.KindError, pulse.KindFlash}, kinds(evs), "%v", evs)
	assert.Equal(t, pulse.ReasonInterDigit, evs[0].Reason)
	assert.Equal(t, 3, evs[0].Pulses)
	assert.Equal(t, at+300*ms, evs[1].At)
}

// bounce adds a contact-bounce burst after every edge: the level flips
// back and forth within span, ending at the edge's state.
func bounce(edges []pulse.Edge, span time.Duration) []pulse.Edge {
	var out []pulse.Edge
	other := map[pulse.State]pulse.State{pulse.Break: pulse.Make, pulse.Make: pulse.Break}
	for _, e := range edges {
		out = append(out,
			e,
			pulse.Edge{State: other[e.State], At: e.At + span/5},
			pulse.Edge{State: e.State, At: e.At + 2*span/5},
			pulse.Edge{State: other[e.State], At: e.At + 3*span/4},
			pulse.Edge{State: e.State, At: e.At + span},
		)
	}
	return out
}

func TestBounce(t *testing.T) {
	for _, rate := range []pulse.Rate{pulse.Rate10PPS(), pulse.Rate20PPS()} {
		for _, span := range []time.Duration{1 * ms, 3 * ms, 5 * ms} {
			t.Run(fmt.Sprintf("%s/%v", rate.Name, span), func(t *testing.T) {
				g := pulse.GeneratorFor(pulse.EncodingStandard, rate)
				edges, end, err := g.Dial("0123456789", start+time.Second)
				require.NoError(t, err)
				clean := feed(offHook(t, pulse.DefaultJapan()), edges, end)
				bounced := feed(offHook(t, pulse.DefaultJapan()), bounce(edges, span), end)
				assert.Equal(t, "0123456789", digitsOf(bounced))
				assert.Equal(t, clean, bounced, "bounce must not shift the measured times")
			})
		}
	}
}

func TestGlitchIgnored(t *testing.T) {
	at := start + time.Second
	d := offHook(t, pulse.DefaultJapan())
	evs := feed(d, []pulse.Edge{{State: pulse.Break, At: at}, {State: pulse.Make, At: at + 2*ms}}, at+time.Second)
	assert.Empty(t, evs, "a 2 ms spike is bounce, not a pulse")

	d, err := pulse.NewDecoder(pulse.DefaultJapan(), pulse.Break, start)
	require.NoError(t, err)
	evs = feed(d, []pulse.Edge{{State: pulse.Make, At: at}, {State: pulse.Break, At: at + 4*ms}}, at+time.Second)
	assert.Empty(t, evs, "a spike while on hook is not an off-hook")
}

// TestTickCadence: the events must not depend on how often Tick runs.
func TestTickCadence(t *testing.T) {
	g := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate10PPS())
	edges, end, err := g.Dial("0312345678", start+time.Second)
	require.NoError(t, err)
	edges = bounce(edges, 4*ms)
	last := edges[len(edges)-1].At
	edges = append(edges,
		pulse.Edge{State: pulse.Break, At: end + time.Second}, pulse.Edge{State: pulse.Make, At: end + time.Second + 400*ms},
		pulse.Edge{State: pulse.Break, At: end + 3*time.Second})
	end += 6 * time.Second
	require.Greater(t, end, last)

	want := feed(offHook(t, pulse.DefaultJapan()), edges, end)
	require.Equal(t, "0312345678!!", digitsOf(want))
	require.Equal(t, pulse.KindFlash, want[10].Kind)
	require.Equal(t, pulse.KindOnHook, want[11].Kind)

	// Tick every millisecond between edges.
	d := offHook(t, pulse.DefaultJapan())
	var got []pulse.Event
	now := start
	for _, e := range edges {
		for ; now < e.At; now += ms {
			got = append(got, d.Tick(now)...)
		}
		got = append(got, d.Edge(e.State, e.At)...)
	}
	got = append(got, d.Tick(end)...)
	assert.Equal(t, want, got)

	// Tick exactly at every deadline, as a timer-driven caller would.
	d = offHook(t, pulse.DefaultJapan())
	got = nil
	for _, e := range append(edges, pulse.Edge{At: end}) {
		for dl, ok := d.Deadline(); ok && dl <= e.At; dl, ok = d.Deadline() {
			got = append(got, d.Tick(dl)...)
		}
		if e.State != 0 {
			got = append(got, d.Edge(e.State, e.At)...)
		}
	}
	assert.Equal(t, want, got)
}

func TestBadInput(t *testing.T) {
	d := offHook(t, pulse.DefaultJapan())
	at := start + time.Second
	require.Empty(t, d.Tick(at))
	evs := d.Edge(pulse.Break, at-ms)
	require.Len(t, evs, 1)
	assert.Equal(t, pulse.ReasonTimeReversed, evs[0].Reason)
	evs = d.Edge(pulse.State(7), at)
	require.Len(t, evs, 1)
	assert.Equal(t, pulse.ReasonBadState, evs[0].Reason)
	assert.Empty(t, d.Tick(at-time.Second), "an old tick is ignored")
	assert.Empty(t, d.Edge(pulse.Make, at), "a repeated level is ignored")

	// The decoder still works afterwards.
	g := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate20PPS())
	edges, end, err := g.Dial("7", at+ms)
	require.NoError(t, err)
	assert.Equal(t, "7", digitsOf(feed(d, edges, end)))
}

func TestOtherEncodings(t *testing.T) {
	for _, enc := range []pulse.Encoding{pulse.EncodingSweden, pulse.EncodingNewZealand} {
		t.Run(enc.String(), func(t *testing.T) {
			cfg := pulse.DefaultJapan()
			cfg.Encoding = enc
			g := pulse.GeneratorFor(enc, pulse.Rate10PPS())
			edges, end, err := g.Dial("0123456789", start+time.Second)
			require.NoError(t, err)
			evs := feed(offHook(t, cfg), edges, end)
			assert.Equal(t, "0123456789", digitsOf(evs))
			for _, ev := range evs {
				n, _ := enc.Pulses(ev.Digit)
				assert.Equal(t, n, ev.Pulses)
			}
		})
	}
}

func TestEventString(t *testing.T) {
	tests := []struct {
		ev   pulse.Event
		want string
	}{
		{pulse.Event{Kind: pulse.KindDigit, Digit: 3, At: ms, Pulses: 3, Rate: "10pps", PPS: 10, MakeRatio: 0.36},
			"digit 3 at 1ms (3 pulses, 10pps, 10.00 pps, make 36.0%)"},
		{pulse.Event{Kind: pulse.KindError, At: ms, Reason: pulse.ReasonTimeReversed}, "error at 1ms: edge older than the previous call"},
		{pulse.Event{Kind: pulse.KindFlash, At: ms}, "flash at 1ms"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.ev.String())
	}
}
