package gpio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/gpio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

const bound = 10 * time.Second

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeChips records output changes as "ringer on@1s" and lets the test
// raise hook edges.
type fakeChips struct {
	clk     *clock.Manual
	mu      sync.Mutex
	log     []string
	onEdge  func(bool, time.Duration)
	initial bool
	fail    map[string]error // by pin line: fail the request
	setErr  error
	closed  int
}

type fakeOut struct {
	f    *fakeChips
	name string
}

func (o fakeOut) Set(on bool) error {
	o.f.mu.Lock()
	defer o.f.mu.Unlock()
	if o.f.setErr != nil {
		return o.f.setErr
	}
	state := "off"
	if on {
		state = "on"
	}
	o.f.log = append(o.f.log, fmt.Sprintf("%s %s@%v", o.name, state, o.f.clk.Now().Sub(epoch)))
	return nil
}

func (o fakeOut) Close() error {
	o.f.mu.Lock()
	defer o.f.mu.Unlock()
	o.f.closed++
	return nil
}

type fakeIn struct{ f *fakeChips }

func (i fakeIn) Active() (bool, error) { return i.f.initial, nil }
func (i fakeIn) Close() error          { return fakeOut{f: i.f}.Close() }

func (f *fakeChips) Input(p gpio.Pin, _ gpio.Bias, onEdge func(bool, time.Duration)) (gpio.Input, error) {
	if err := f.fail[p.Line]; err != nil {
		return nil, err
	}
	f.onEdge = onEdge
	return fakeIn{f}, nil
}

func (f *fakeChips) Output(p gpio.Pin) (gpio.Output, error) {
	if err := f.fail[p.Line]; err != nil {
		return nil, err
	}
	return fakeOut{f: f, name: p.Line}, nil
}

func (f *fakeChips) outputs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.log
	f.log = nil
	return out
}

// edge raises a hook edge stamped with the kernel time ts (whose origin
// differs from the clock's, as on a real system).
func (f *fakeChips) edge(up bool, ts time.Duration) {
	f.clk.AdvanceTo(epoch.Add(ts - time.Hour))
	f.onEdge(up, ts)
}

var cfg = gpio.Config{
	Hook:    gpio.Pin{Chip: "gpiochip0", Line: "GPIO17", ActiveLow: true},
	Ringer:  gpio.Pin{Line: "ringer"},
	Reverse: gpio.Pin{Line: "reverse"},
	Talk:    gpio.Pin{Line: "talk"},
}

func newLine(t *testing.T, f *fakeChips) *gpio.Line {
	t.Helper()
	l, err := gpio.New(cfg, gpio.Options{Chips: f, Clock: f.clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func event(t *testing.T, l *gpio.Line) line.Event {
	t.Helper()
	select {
	case e := <-l.Events():
		return e
	case <-time.After(bound):
		t.Fatal("no event")
		return line.Event{}
	}
}

func TestDialThroughKernelEdges(t *testing.T) {
	f := &fakeChips{clk: clock.NewManual(epoch)}
	l := newLine(t, f)
	const base = time.Hour // kernel timestamps start elsewhere
	f.edge(true, base)
	g := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate10PPS())
	edges, end, err := g.Dial("19", time.Second)
	require.NoError(t, err)
	for _, e := range edges {
		f.edge(e.State == pulse.Make, base+e.At)
	}
	f.clk.AdvanceTo(epoch.Add(end))
	f.edge(false, base+end+time.Second)
	f.clk.Advance(2 * time.Second)
	var got []string
	for range 4 {
		e := event(t, l)
		got = append(got, fmt.Sprintf("%v %d", e.Kind, e.Digit))
	}
	assert.Equal(t, []string{"off-hook 0", "digit 1", "digit 9", "on-hook 0"}, got)
}

func TestRingCadenceAndRingTrip(t *testing.T) {
	f := &fakeChips{clk: clock.NewManual(epoch)}
	l := newLine(t, f)
	ctx := context.Background()
	require.NoError(t, l.Ring(ctx, []time.Duration{time.Second, 2 * time.Second}))
	f.clk.Advance(3500 * time.Millisecond)
	f.onEdge(true, 0) // handset lifted during the second ring
	assert.Equal(t, []string{"ringer on@0s", "ringer off@1s", "ringer on@3s", "ringer off@3.5s"}, f.outputs())
	f.clk.Advance(10 * time.Second)
	assert.Empty(t, f.outputs(), "the cadence stopped with the ring trip")
	assert.Equal(t, line.OffHook, event(t, l).Kind)
	assert.ErrorIs(t, l.Ring(ctx, []time.Duration{time.Second, time.Second}), gpio.ErrOffHook)
	assert.Contains(t, l.Status(), "off hook")

	require.NoError(t, l.Talk(ctx, true))
	require.NoError(t, l.Reverse(ctx, true))
	require.NoError(t, l.Idle(ctx))
	assert.Equal(t, []string{"talk on@13.5s", "reverse on@13.5s", "ringer off@13.5s", "reverse off@13.5s", "talk off@13.5s"}, f.outputs())
	assert.NoError(t, l.Err())
}

func TestStartsOffHook(t *testing.T) {
	f := &fakeChips{clk: clock.NewManual(epoch), initial: true}
	l := newLine(t, f)
	f.clk.Advance(time.Second)
	assert.Equal(t, line.OffHook, event(t, l).Kind)
}

func TestErrors(t *testing.T) {
	boom := errors.New("device busy")
	for _, pin := range []string{"GPIO17", "ringer", "reverse", "talk"} {
		f := &fakeChips{clk: clock.NewManual(epoch), fail: map[string]error{pin: boom}}
		_, err := gpio.New(cfg, gpio.Options{Chips: f, Clock: f.clk})
		require.ErrorIs(t, err, boom, pin)
		assert.Contains(t, err.Error(), pin)
	}
	missing := cfg
	missing.Talk = gpio.Pin{}
	_, err := gpio.New(missing, gpio.Options{Chips: &fakeChips{clk: clock.NewManual(epoch)}})
	assert.ErrorContains(t, err, "talk pin: no line")

	f := &fakeChips{clk: clock.NewManual(epoch)}
	l := newLine(t, f)
	f.setErr = boom
	err = l.Talk(context.Background(), true)
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "talk pin talk")
	assert.Contains(t, l.Status(), "last error")
	f.setErr = nil
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())
	assert.Equal(t, 4, f.closed)
}

func TestResolve(t *testing.T) {
	chips := []gpio.ChipInfo{
		{Name: "gpiochip0", Label: "pinctrl-bcm2711", Lines: []string{"ID_SDA", "ID_SCL", "GPIO2", "GPIO17"}},
		{Name: "gpiochip1", Label: "raspberrypi-exp-gpio", Lines: []string{"BT_ON", "", "GPIO17"}},
	}
	tests := []struct {
		pin    gpio.Pin
		chip   string
		offset int
		err    string
	}{
		{gpio.Pin{Line: "GPIO17"}, "gpiochip0", 3, ""},
		{gpio.Pin{Chip: "raspberrypi-exp-gpio", Line: "GPIO17"}, "gpiochip1", 2, ""},
		{gpio.Pin{Chip: "gpiochip0", Line: "2"}, "gpiochip0", 2, ""},
		{gpio.Pin{Chip: "pinctrl-bcm2711", Line: "3"}, "gpiochip0", 3, ""},
		{gpio.Pin{Chip: "gpiochip9", Line: "GPIO17"}, "", 0, `chip "gpiochip9" not found (have: gpiochip0 [pinctrl-bcm2711], gpiochip1 [raspberrypi-exp-gpio])`},
		{gpio.Pin{Chip: "gpiochip0", Line: "GPIO99"}, "", 0, `line "GPIO99" not found on gpiochip0`},
		{gpio.Pin{Line: "GPIO99"}, "", 0, `line "GPIO99" not found on any chip`},
		{gpio.Pin{Chip: "gpiochip0", Line: "4"}, "", 0, "line offset 4 not found on gpiochip0 (it has 4 lines)"},
		{gpio.Pin{Line: "4"}, "", 0, "line offset 4 needs a chip"},
		{gpio.Pin{Line: ""}, "", 0, `line "" not found on any chip`},
	}
	for _, tt := range tests {
		chip, off, err := gpio.Resolve(tt.pin, chips)
		if tt.err != "" {
			assert.EqualError(t, err, tt.err, "%v", tt.pin)
			continue
		}
		require.NoError(t, err, "%v", tt.pin)
		assert.Equal(t, tt.chip, chip)
		assert.Equal(t, tt.offset, off)
	}
	_, _, err := gpio.Resolve(gpio.Pin{Line: "GPIO17"}, nil)
	assert.ErrorContains(t, err, "no GPIO chips")
}

func FuzzResolve(f *testing.F) {
	chips := []gpio.ChipInfo{{Name: "gpiochip0", Label: "pinctrl-bcm2711", Lines: []string{"GPIO0", "", "GPIO2"}}}
	f.Add("gpiochip0", "GPIO2")
	f.Add("", "-1")
	f.Add("pinctrl-bcm2711", "99999999999999999999")
	f.Fuzz(func(t *testing.T, chip, lineName string) {
		c, off, err := gpio.Resolve(gpio.Pin{Chip: chip, Line: lineName}, chips)
		if err == nil && (c != "gpiochip0" || off < 0 || off >= 3) {
			t.Fatalf("resolved %q:%q to %s:%d", chip, lineName, c, off)
		}
	})
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "gpiochip0:GPIO17 (active low)", cfg.Hook.String())
	assert.Equal(t, "pull-up", gpio.BiasPullUp.String())
	assert.Equal(t, "Bias(9)", gpio.Bias(9).String())
}

// TestCharDevWithoutChips runs the real backend where there are no GPIO
// chips (CI, containers): it must fail with an error naming the pin.
func TestCharDevWithoutChips(t *testing.T) {
	chips, err := gpio.CharDev{}.Chips()
	require.NoError(t, err)
	if len(chips) > 0 {
		t.Skip("this machine has GPIO chips; the hardware test needs a Pi with the line interface wired")
	}
	_, err = gpio.New(cfg, gpio.Options{})
	require.ErrorIs(t, err, gpio.ErrNotFound)
	assert.Contains(t, err.Error(), "ringer pin ringer")
	assert.Contains(t, err.Error(), "no GPIO chips")
}
