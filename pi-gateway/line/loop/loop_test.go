package loop_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/loop"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

type recorder struct {
	mu  sync.Mutex
	evs []line.Event
}

func (r *recorder) emit(e line.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		s := e.Kind.String()
		if e.Kind == line.Digit {
			s += string(rune('0' + e.Digit))
		}
		out = append(out, s)
	}
	return out
}

// play feeds generated edges at their times, advancing the clock between.
func play(c *clock.Manual, d *loop.Driver, edges []pulse.Edge, base time.Time) {
	for _, e := range edges {
		c.AdvanceTo(base.Add(e.At))
		d.Edge(e.State)
	}
}

func TestDriver(t *testing.T) {
	tests := []struct {
		name string
		run  func(c *clock.Manual, d *loop.Driver)
		want []string
	}{
		{"lift and replace", func(c *clock.Manual, d *loop.Driver) {
			d.Edge(pulse.Make)
			c.Advance(time.Second)
			d.Edge(pulse.Break)
			c.Advance(2 * time.Second)
		}, []string{"off-hook", "on-hook"}},
		{"dial 109 at 10 pps", func(c *clock.Manual, d *loop.Driver) {
			d.Edge(pulse.Make)
			c.Advance(time.Second)
			g := pulse.GeneratorFor(pulse.EncodingStandard, pulse.Rate10PPS())
			edges, end, err := g.Dial("109", 0)
			require.NoError(t, err)
			base := c.Now()
			play(c, d, edges, base)
			c.AdvanceTo(base.Add(end))
		}, []string{"off-hook", "digit1", "digit0", "digit9"}},
		{"flash", func(c *clock.Manual, d *loop.Driver) {
			d.Edge(pulse.Make)
			c.Advance(time.Second)
			d.Edge(pulse.Break)
			c.Advance(400 * time.Millisecond)
			d.Edge(pulse.Make)
			c.Advance(time.Second)
		}, []string{"off-hook", "flash"}},
		{"bounce on lift is one off-hook", func(c *clock.Manual, d *loop.Driver) {
			for range 3 {
				d.Edge(pulse.Make)
				c.Advance(time.Millisecond)
				d.Edge(pulse.Break)
				c.Advance(time.Millisecond)
			}
			d.Edge(pulse.Make)
			c.Advance(time.Second)
		}, []string{"off-hook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clock.NewManual(epoch)
			var rec recorder
			d, err := loop.NewDriver(pulse.DefaultJapan(), pulse.Break, c, rec.emit)
			require.NoError(t, err)
			defer d.Close()
			tt.run(c, d)
			assert.Equal(t, tt.want, rec.kinds())
		})
	}
}

func TestDriverLateEdgeIsClamped(t *testing.T) {
	c := clock.NewManual(epoch)
	var rec recorder
	d, err := loop.NewDriver(pulse.DefaultJapan(), pulse.Break, c, rec.emit)
	require.NoError(t, err)
	c.Advance(time.Second)
	d.EdgeAt(pulse.Make, epoch) // stamped before the latest time seen
	c.Advance(time.Second)
	assert.Equal(t, []string{"off-hook"}, rec.kinds())
	assert.False(t, d.OnHook())
	d.Close()
	d.Edge(pulse.Break)
	c.Advance(5 * time.Second)
	assert.Equal(t, []string{"off-hook"}, rec.kinds(), "closed driver reports nothing")
}

func TestDriverBadConfig(t *testing.T) {
	cfg := pulse.DefaultJapan()
	cfg.Rates = nil
	_, err := loop.NewDriver(cfg, pulse.Break, clock.NewManual(epoch), func(line.Event) {})
	assert.ErrorIs(t, err, pulse.ErrConfig)
}

func TestTranslateError(t *testing.T) {
	e := loop.Translate(pulse.Event{Kind: pulse.KindError, Reason: pulse.ReasonSpeed, At: time.Second}, epoch)
	assert.Equal(t, line.DigitError, e.Kind)
	assert.Contains(t, e.Reason, "speed")
	assert.Equal(t, epoch.Add(time.Second), e.At)
}

func TestQueueOrderAndClose(t *testing.T) {
	q := loop.NewQueue()
	for i := range 100 {
		q.Push(line.Event{Kind: line.Digit, Digit: i % 10})
	}
	for i := range 100 {
		e := <-q.Events()
		require.Equal(t, i%10, e.Digit)
	}
	q.Close()
	q.Close()
	_, ok := <-q.Events()
	assert.False(t, ok)
}

func TestRinger(t *testing.T) {
	c := clock.NewManual(epoch)
	var steps []string
	r := loop.NewRinger(c, func(on bool) error {
		steps = append(steps, map[bool]string{true: "on", false: "off"}[on]+"@"+c.Now().Sub(epoch).String())
		return nil
	}, nil)
	require.NoError(t, r.Start([]time.Duration{time.Second, 2 * time.Second}))
	assert.True(t, r.Ringing())
	c.Advance(6500 * time.Millisecond)
	require.NoError(t, r.Stop())
	assert.False(t, r.Ringing())
	c.Advance(10 * time.Second)
	assert.Equal(t, []string{"on@0s", "off@1s", "on@3s", "off@4s", "on@6s", "off@6.5s"}, steps)
	assert.Zero(t, c.Pending())
}

func TestRingerErrors(t *testing.T) {
	c := clock.NewManual(epoch)
	boom := errors.New("relay stuck")
	var reported []error
	fail := false
	r := loop.NewRinger(c, func(bool) error {
		if fail {
			return boom
		}
		return nil
	}, func(err error) { reported = append(reported, err) })
	for _, bad := range [][]time.Duration{nil, {time.Second}, {time.Second, 0}} {
		assert.ErrorIs(t, r.Start(bad), loop.ErrCadence, "%v", bad)
	}
	require.NoError(t, r.Start([]time.Duration{time.Second, time.Second}))
	fail = true
	c.Advance(time.Second)
	require.Len(t, reported, 1)
	assert.ErrorIs(t, reported[0], boom)
	assert.ErrorIs(t, r.Stop(), boom)
	assert.ErrorIs(t, r.Start([]time.Duration{time.Second, time.Second}), boom)
	assert.False(t, r.Ringing())
}
