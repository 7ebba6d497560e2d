//go:build !(alsa && cgo)

package alsa

import (
	"errors"
	"log/slog"
	"time"
)

// ErrNotBuilt is Open's error in a build without the "alsa" tag.
var ErrNotBuilt = errors.New("alsa: this binary was built without ALSA support; rebuild with -tags alsa (cgo)")

// Device is the sound card; in this build it cannot be opened.
type Device struct{ *duplex }

// Open fails: see ErrNotBuilt.
func Open(cfg Config, _ *slog.Logger) (*Device, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return nil, ErrNotBuilt
}

// Latency is the device's delay.
func (d *Device) Latency() time.Duration { return 0 }

// Close does nothing.
func (d *Device) Close() error { return nil }
