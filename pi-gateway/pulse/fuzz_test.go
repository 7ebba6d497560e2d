package pulse_test

import (
	"testing"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

// FuzzDecoder feeds arbitrary edge and tick sequences. Each 3-byte record
// is a step of up to 6.5 s in 100 µs units and an action byte: tick, or an
// edge to break or make. The decoder must not panic, its events must be
// well formed and consistent with the hook state, and ticking at every
// deadline must not change them.
func FuzzDecoder(f *testing.F) {
	g := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate10PPS())
	edges, _, _ := g.Dial("0120", 0)
	var seed []byte
	var prev time.Duration
	for _, e := range edges {
		step := (e.At - prev) / (100 * time.Microsecond)
		seed = append(seed, byte(step>>8), byte(step), byte(e.State))
		prev = e.At
	}
	f.Add(append(seed, 0xff, 0xff, 0))
	f.Add([]byte{0, 10, 1, 0, 2, 2, 0, 1, 1, 0, 200, 2, 50, 0, 0})
	f.Add([]byte{0, 0, 1, 0, 0, 2, 0, 0, 7, 0, 0, 0})

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := pulse.DefaultJapan()
		plain, err := pulse.NewDecoder(cfg, pulse.Make, 0)
		if err != nil {
			t.Fatal(err)
		}
		timed, _ := pulse.NewDecoder(cfg, pulse.Make, 0)
		var now time.Duration
		var got, want []pulse.Event
		for i := 0; i+3 <= len(data) && i < 3*4096; i += 3 {
			now += time.Duration(uint16(data[i])<<8|uint16(data[i+1])) * 100 * time.Microsecond
			ticks := 0
			for dl, ok := timed.Deadline(); ok && dl <= now; dl, ok = timed.Deadline() {
				// Every deadline decides something, so few ticks settle a step.
				if ticks++; ticks > 16 {
					t.Fatalf("deadline %v does not advance", dl)
				}
				got = append(got, timed.Tick(dl)...)
			}
			switch action := data[i+2] % 4; action {
			case 0:
				want = append(want, plain.Tick(now)...)
				got = append(got, timed.Tick(now)...)
			case 1, 2:
				want = append(want, plain.Edge(pulse.State(action), now)...)
				got = append(got, timed.Edge(pulse.State(action), now)...)
			default: // a state the API does not know
				want = append(want, plain.Edge(pulse.State(data[i+2]), now)...)
				got = append(got, timed.Edge(pulse.State(data[i+2]), now)...)
			}
		}
		want = append(want, plain.Tick(now)...)
		got = append(got, timed.Tick(now)...)
		checkEvents(t, want, now)
		if len(got) != len(want) {
			t.Fatalf("deadline ticking changed the events:\n got %v\nwant %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("event %d: deadline ticking gave %v, want %v", i, got[i], want[i])
			}
		}
	})
}

func checkEvents(t *testing.T, evs []pulse.Event, now time.Duration) {
	t.Helper()
	onHook := false
	for _, ev := range evs {
		if ev.At > now || ev.At < 0 {
			t.Fatalf("%v: time outside the input", ev)
		}
		switch ev.Kind {
		case pulse.KindDigit:
			if ev.Digit < 0 || ev.Digit > 9 || ev.Pulses < 1 || ev.Pulses > pulse.MaxPulses || ev.Rate == "" {
				t.Fatalf("malformed digit %v", ev)
			}
			if onHook {
				t.Fatalf("%v while on hook", ev)
			}
		case pulse.KindError:
			if ev.Reason < pulse.ReasonSpeed || ev.Reason > pulse.ReasonBadState {
				t.Fatalf("error without a known reason: %v", ev)
			}
		case pulse.KindFlash:
			if onHook {
				t.Fatalf("%v while on hook", ev)
			}
		case pulse.KindOnHook:
			if onHook {
				t.Fatalf("%v twice", ev)
			}
			onHook = true
		case pulse.KindOffHook:
			if !onHook {
				t.Fatalf("%v while off hook", ev)
			}
			onHook = false
		default:
			t.Fatalf("unknown kind %v", ev)
		}
	}
}

// FuzzRoundTrip dials random digits at random speeds and make ratios
// inside the Japanese limits: every digit must come back.
func FuzzRoundTrip(f *testing.F) {
	f.Add("0312345678", uint16(0), uint16(0), uint16(0), false)
	f.Add("9", uint16(65535), uint16(65535), uint16(65535), true)
	f.Fuzz(func(t *testing.T, digits string, speed, ratio, pause uint16, fast bool) {
		rate := pulse.Rate10PPS()
		if fast {
			rate = pulse.Rate20PPS()
		}
		var clean []byte
		for i := range min(len(digits), 32) {
			if c := digits[i]; c >= '0' && c <= '9' {
				clean = append(clean, c)
			}
		}
		scale := func(v uint16, lo, hi float64) float64 { return lo + (hi-lo)*float64(v)/65535 }
		g := pulse.Generator{
			PPS:       scale(speed, rate.PPS-rate.Tolerance, rate.PPS+rate.Tolerance),
			MakeRatio: scale(ratio, rate.MakeMin, rate.MakeMax),
			Pause:     rate.InterDigit + time.Duration(pause)*time.Millisecond/8,
		}
		edges, end, err := g.Dial(string(clean), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		d, err := pulse.NewDecoder(pulse.DefaultJapan(), pulse.Make, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := digitsOf(feed(d, edges, end)); got != string(clean) {
			t.Fatalf("dialled %q at %.3f pps make %.3f, decoded %q", clean, g.PPS, g.MakeRatio, got)
		}
	})
}
