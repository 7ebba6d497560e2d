//go:build alsa && cgo

package alsa

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gen2brain/malgo"
)

// maBackendNull is miniaudio's ma_backend_null. malgo v0.11.24's
// BackendNull is one short: its list misses ma_backend_custom.
const maBackendNull = malgo.Backend(malgo.BackendNull + 1)

// openMiniaudio starts the card in full duplex through miniaudio, feeding
// d from its callback; the returned func stops it.
func openMiniaudio(cfg Config, d *duplex, log *slog.Logger) (func(), error) {
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
	return func() {
		dev.Uninit()
		_ = mctx.Uninit()
		mctx.Free()
	}, nil
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
