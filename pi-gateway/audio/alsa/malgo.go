//go:build alsa && cgo

package alsa

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gen2brain/malgo"

	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
)

// maBackendNull is miniaudio's ma_backend_null. malgo v0.11.24's
// BackendNull is one short: its list misses ma_backend_custom.
const maBackendNull = malgo.Backend(malgo.BackendNull + 1)

// ErrNotBuilt is never returned in this build.
var ErrNotBuilt = errors.New("alsa: not built")

// Device is the USB sound card as an audio.Device.
type Device struct {
	*duplex
	cfg  Config
	mctx *malgo.AllocatedContext
	dev  *malgo.Device
	once sync.Once
}

var _ audio.Device = (*Device)(nil)

// Open starts the card in full duplex, mono, 16 bit at cfg.Rate.
func Open(cfg Config, log *slog.Logger) (*Device, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	d, err := newDuplex(cfg)
	if err != nil {
		return nil, err
	}
	backend := malgo.Backend(malgo.BackendAlsa)
	if cfg.Null {
		backend = maBackendNull
	}
	mctx, err := malgo.InitContext([]malgo.Backend{backend}, malgo.ContextConfig{}, func(msg string) {
		log.Debug("miniaudio", "msg", strings.TrimSpace(msg))
	})
	if err != nil {
		return nil, fmt.Errorf("alsa: init: %w", err)
	}
	dc := malgo.DefaultDeviceConfig(malgo.Duplex)
	dc.SampleRate = uint32(cfg.Rate)
	dc.PeriodSizeInMilliseconds = uint32(cfg.Period / time.Millisecond)
	dc.Periods = uint32(cfg.Periods)
	dc.Capture.Format, dc.Capture.Channels = malgo.FormatS16, 1
	dc.Playback.Format, dc.Playback.Channels = malgo.FormatS16, 1
	if cfg.Device != "" {
		capID, playID, err := find(mctx, cfg.Device)
		if err != nil {
			_ = mctx.Uninit()
			mctx.Free()
			return nil, err
		}
		dc.Capture.DeviceID, dc.Playback.DeviceID = capID.Pointer(), playID.Pointer()
	}
	var in, out []int16
	cb := malgo.DeviceCallbacks{Data: func(pOut, pIn []byte, frames uint32) {
		// Runs on miniaudio's audio thread: no allocation once warm.
		in = bytesToInt16(in[:0], pIn)
		d.capture(in)
		if cap(out) < int(frames) {
			out = make([]int16, frames)
		}
		out = out[:frames]
		d.playback(out)
		int16ToBytes(pOut, out)
	}}
	dev, err := malgo.InitDevice(mctx.Context, dc, cb)
	if err != nil {
		_ = mctx.Uninit()
		mctx.Free()
		return nil, fmt.Errorf("alsa: open %q at %d Hz: %w", cfg.Device, cfg.Rate, err)
	}
	if err := dev.Start(); err != nil {
		dev.Uninit()
		_ = mctx.Uninit()
		mctx.Free()
		return nil, fmt.Errorf("alsa: start %q: %w", cfg.Device, err)
	}
	return &Device{duplex: d, cfg: cfg, mctx: mctx, dev: dev}, nil
}

// find picks the capture and playback devices whose names contain name.
func find(mctx *malgo.AllocatedContext, name string) (capID, playID malgo.DeviceID, err error) {
	pick := func(kind malgo.DeviceType, what string) (malgo.DeviceID, error) {
		infos, err := mctx.Devices(kind)
		if err != nil {
			return malgo.DeviceID{}, fmt.Errorf("alsa: list %s devices: %w", what, err)
		}
		var names []string
		for _, i := range infos {
			if strings.Contains(i.Name(), name) {
				return i.ID, nil
			}
			names = append(names, i.Name())
		}
		return malgo.DeviceID{}, fmt.Errorf("alsa: no %s device named like %q (have: %s)", what, name, strings.Join(names, "; "))
	}
	if capID, err = pick(malgo.Capture, "capture"); err != nil {
		return
	}
	playID, err = pick(malgo.Playback, "playback")
	return
}

func bytesToInt16(dst []int16, b []byte) []int16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(uint16(b[i])|uint16(b[i+1])<<8))
	}
	return dst
}

func int16ToBytes(dst []byte, s []int16) {
	for i, v := range s {
		if 2*i+1 >= len(dst) {
			return
		}
		dst[2*i], dst[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
}

// Latency is the delay from Write to the earpiece, roughly.
func (d *Device) Latency() time.Duration { return d.latency(d.cfg) }

// Close stops the card.
func (d *Device) Close() error {
	d.once.Do(func() {
		d.duplex.close()
		d.dev.Uninit()
		_ = d.mctx.Uninit()
		d.mctx.Free()
	})
	return nil
}
