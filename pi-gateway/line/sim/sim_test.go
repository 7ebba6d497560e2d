package sim_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

const bound = 10 * time.Second

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newLine(t *testing.T, opts sim.Options) (*sim.Line, *clock.Manual) {
	t.Helper()
	c := clock.NewManual(epoch)
	opts.Clock = c
	l, err := sim.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l, c
}

// next returns the next event, failing the test if none comes.
func next(t *testing.T, l *sim.Line) line.Event {
	t.Helper()
	select {
	case e := <-l.Events():
		return e
	case <-time.After(bound):
		t.Fatal("no event")
		return line.Event{}
	}
}

func describe(e line.Event) string {
	if e.Kind == line.Digit {
		return "digit " + string(rune('0'+e.Digit))
	}
	return e.Kind.String()
}

func TestHandset(t *testing.T) {
	tests := []struct {
		name string
		dial pulse.Generator
		run  func(t *testing.T, l *sim.Line, c *clock.Manual)
		want []string
	}{
		{"lift, dial 110, replace", pulse.Generator{}, func(t *testing.T, l *sim.Line, c *clock.Manual) {
			l.Lift()
			c.Advance(time.Second)
			require.NoError(t, l.Dial("11"))
			require.NoError(t, l.Dial("0")) // queued behind the first two
			assert.True(t, l.Dialling())
			c.Advance(10 * time.Second)
			assert.False(t, l.Dialling())
			l.Replace()
			c.Advance(2 * time.Second)
		}, []string{"off-hook", "digit 1", "digit 1", "digit 0", "on-hook"}},
		{"20 pps dial", pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate20PPS()), func(t *testing.T, l *sim.Line, c *clock.Manual) {
			l.Lift()
			require.NoError(t, l.Dial("09"))
			c.Advance(10 * time.Second)
		}, []string{"off-hook", "digit 0", "digit 9"}},
		{"flash between digits", pulse.Generator{}, func(t *testing.T, l *sim.Line, c *clock.Manual) {
			l.Lift()
			require.NoError(t, l.Dial("5"))
			require.NoError(t, l.Flash())
			require.NoError(t, l.Dial("6"))
			c.Advance(10 * time.Second)
		}, []string{"off-hook", "digit 5", "flash", "digit 6"}},
		{"replacing abandons dialling", pulse.Generator{}, func(t *testing.T, l *sim.Line, c *clock.Manual) {
			l.Lift()
			c.Advance(time.Second)
			require.NoError(t, l.Dial("0"))
			c.Advance(100 * time.Millisecond)
			l.Replace()
			c.Advance(5 * time.Second)
			assert.False(t, l.Dialling())
		}, []string{"off-hook", "digit-error", "on-hook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLine(t, sim.Options{Dial: tt.dial})
			tt.run(t, l, c)
			var got []string
			for range tt.want {
				got = append(got, describe(next(t, l)))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestOutputsAndRingTrip(t *testing.T) {
	var mu sync.Mutex
	var changes []string
	var edges []pulse.State
	l, c := newLine(t, sim.Options{
		OnChange: func(o sim.Outputs) { mu.Lock(); changes = append(changes, o.String()); mu.Unlock() },
		OnEdge:   func(s pulse.State) { edges = append(edges, s) },
	})
	ctx := context.Background()
	cad := []time.Duration{time.Second, 2 * time.Second}
	require.NoError(t, l.Ring(ctx, cad))
	assert.Equal(t, sim.Outputs{Ringing: true, Cadence: cad}, l.Outputs())
	assert.Contains(t, l.Status(), "on hook")
	l.Lift() // ring trip
	assert.False(t, l.Outputs().Ringing)
	assert.True(t, l.OffHook())
	assert.ErrorIs(t, l.Ring(ctx, cad), sim.ErrOffHook)
	require.NoError(t, l.Talk(ctx, true))
	require.NoError(t, l.Reverse(ctx, true))
	require.NoError(t, l.Reverse(ctx, true)) // no change, no report
	assert.Equal(t, "sim: off hook, reversed, talk", l.Status())
	require.NoError(t, l.StopRinging(ctx))
	require.NoError(t, l.Idle(ctx))
	assert.Equal(t, sim.Outputs{}, l.Outputs())
	c.Advance(time.Second)
	assert.Equal(t, "off-hook", describe(next(t, l)))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"ringing [1s 2s]", "idle", "talk", "reversed, talk", "idle"}, changes)
	assert.Equal(t, []pulse.State{pulse.Make}, edges)
	assert.NoError(t, l.Err())
}

func TestErrors(t *testing.T) {
	l, _ := newLine(t, sim.Options{})
	assert.ErrorIs(t, l.Dial("1"), sim.ErrOnHook)
	assert.ErrorIs(t, l.Flash(), sim.ErrOnHook)
	l.Lift()
	assert.ErrorIs(t, l.Dial("1x"), pulse.ErrGenerator)
	assert.Error(t, l.Ring(context.Background(), []time.Duration{time.Second}))

	_, err := sim.New(sim.Options{Dial: pulse.Generator{PPS: 10, MakeRatio: 2}})
	assert.ErrorIs(t, err, pulse.ErrGenerator)
	bad := pulse.DefaultJapan()
	bad.FlashMin = 2 * time.Second
	_, err = sim.New(sim.Options{Pulse: bad})
	assert.ErrorIs(t, err, pulse.ErrConfig)
}

func TestCloseEndsEvents(t *testing.T) {
	l, c := newLine(t, sim.Options{})
	l.Lift()
	require.NoError(t, l.Dial("123"))
	require.NoError(t, l.Close())
	c.Advance(time.Minute)
	for range l.Events() { // drains, then ends
	}
	l.Lift() // harmless after Close
}
