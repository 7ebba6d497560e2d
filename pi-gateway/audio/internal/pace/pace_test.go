package pace_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/internal/pace"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
)

func TestPacer(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	p := pace.New(clk, 20*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Wait(ctx)) // the first frame is due at once
	done := make(chan error, 1)
	go func() { done <- p.Wait(ctx) }()
	require.NoError(t, clk.WaitForTimers(ctx, 1))
	d, _ := clk.Next()
	assert.Equal(t, 20*time.Millisecond, d)
	clk.Advance(d)
	require.NoError(t, <-done)

	clk.Advance(time.Second) // far behind: starts over without a burst
	require.NoError(t, p.Wait(ctx))
	assert.Zero(t, clk.Pending())

	var nilPacer *pace.Pacer
	assert.NoError(t, nilPacer.Wait(ctx))
	cancel()
	go func() { done <- p.Wait(ctx) }()
	assert.ErrorIs(t, <-done, context.Canceled)
}
