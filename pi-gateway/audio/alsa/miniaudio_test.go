//go:build alsa && cgo

package alsa

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
)

// TestNullBackend runs the real miniaudio device on its null backend, which
// needs no card: frames go through the callbacks at the device's pace.
func TestNullBackend(t *testing.T) {
	d, err := Open(Config{Driver: DriverMiniaudio, Null: true}, nil)
	require.NoError(t, err)
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frame := make([]int16, audio.FrameSamples)
	for range 5 {
		require.NoError(t, d.Write(ctx, frame))
		require.NoError(t, d.Read(ctx, frame))
	}
	require.Positive(t, d.Latency())
	require.NoError(t, d.Close())
}
