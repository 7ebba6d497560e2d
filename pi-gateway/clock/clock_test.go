package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestManualRunsInOrder(t *testing.T) {
	c := clock.NewManual(epoch)
	var got []string
	var at []time.Duration
	rec := func(s string) func() {
		return func() { got = append(got, s); at = append(at, c.Now().Sub(epoch)) }
	}
	c.AfterFunc(3*time.Second, rec("c"))
	c.AfterFunc(time.Second, func() {
		rec("a")()
		c.AfterFunc(time.Second, rec("b")) // scheduled from a timer, due at 2 s
	})
	stopped := c.AfterFunc(2500*time.Millisecond, rec("never"))
	assert.True(t, stopped.Stop())
	assert.False(t, stopped.Stop())
	d, ok := c.Next()
	require.True(t, ok)
	assert.Equal(t, time.Second, d)

	c.Advance(2 * time.Second)
	assert.Equal(t, []string{"a", "b"}, got)
	c.Advance(5 * time.Second)
	assert.Equal(t, []string{"a", "b", "c"}, got)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, at)
	assert.Equal(t, 7*time.Second, c.Now().Sub(epoch))
	assert.Zero(t, c.Pending())
}

func TestSleepAndWait(t *testing.T) {
	c := clock.NewManual(epoch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- clock.Sleep(ctx, c, time.Minute) }()
	require.NoError(t, c.WaitForTimers(ctx, 1))
	c.Advance(time.Minute)
	require.NoError(t, <-done)

	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	assert.ErrorIs(t, clock.Sleep(cctx, c, time.Minute), context.Canceled)
}

func TestReal(t *testing.T) {
	var c clock.Clock = clock.Real{}
	done := make(chan struct{})
	c.AfterFunc(0, func() { close(done) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("real AfterFunc never ran")
	}
	assert.False(t, c.Now().IsZero())
}
