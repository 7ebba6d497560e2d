package config_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/confkit"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio/silence"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/config"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/gpio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

func env(vars map[string]string) config.Options {
	return config.Options{
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		ReadSecretFile: func(p string) ([]byte, error) {
			if p == "/etc/kurodenwa/sip.pw" {
				return []byte("FromFile1234\n"), nil
			}
			return nil, errors.New("no such file")
		},
	}
}

var withPassword = env(map[string]string{"KURODENWA_SIP_PASSWORD": "Secret123456"})

func TestExample(t *testing.T) {
	c, err := config.Load("testdata/example.yaml", withPassword)
	require.NoError(t, err)
	assert.Equal(t, "serial", c.Line.Backend)
	assert.Equal(t, "/dev/ttyACM0", c.SerialConfig().Port)
	assert.Equal(t, "sip:blackphone@pbx.local", c.AOR())
	assert.Equal(t, "blackphone", c.AuthUser())
	first, last := c.RTPPortRange()
	assert.Equal(t, [2]int{10000, 10100}, [2]int{first, last})

	pc, err := c.PhoneConfig()
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, pc.RingCadence)
	assert.Equal(t, byte('A'), pc.FlashDigit)
	assert.Equal(t, phone.ToneCongestion, pc.ErrorTone)
	_, err = phone.New(pc)
	require.NoError(t, err)

	gc, err := c.GPIOConfig()
	require.NoError(t, err)
	assert.Equal(t, gpio.Pin{Line: "GPIO17", ActiveLow: true}, gc.Hook)
	assert.Equal(t, gpio.BiasPullUp, gc.HookPull)
}

func TestDefaultsAndEnvironment(t *testing.T) {
	c, err := config.Parse([]byte("sip:\n  registrar: pbx.local\n"), "min.yaml", env(map[string]string{
		"KURODENWA_SIP_PASSWORD":      "Secret123456",
		"KURODENWA_LINE_BACKEND":      "sim",
		"KURODENWA_PHONE_FLASH_DIGIT": "",
		"KURODENWA_PULSE_STANDARD":    "sweden",
	}))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8089", c.HTTP.Listen)
	assert.Equal(t, "silence", c.Audio.Backend)
	assert.Equal(t, config.ALSA{Driver: "alsa-utils", Device: "", Rate: 48000, Period: 10 * time.Millisecond, Periods: 3}, c.Audio.ALSA)
	pc, err := c.PhoneConfig()
	require.NoError(t, err)
	assert.Zero(t, pc.FlashDigit)
	assert.True(t, pc.ReverseOnAnswer)
	pu, err := c.PulseConfig()
	require.NoError(t, err)
	assert.Equal(t, pulse.EncodingSweden, pu.Encoding)
	assert.Equal(t, "sip:blackphone@pbx.local", c.AOR())
}

func TestPasswordFile(t *testing.T) {
	c, err := config.Parse([]byte("sip:\n  registrar: pbx.local\n  password_file: /etc/kurodenwa/sip.pw\n"), "f", env(nil))
	require.NoError(t, err)
	assert.Equal(t, "FromFile1234", c.SIP.Password)
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        config.Options
		keys       []string
		msg        string
	}{
		{"password in file", "sip:\n  registrar: x\n  password: hunter2\n", withPassword, []string{"sip.password"}, "KURODENWA_SIP_PASSWORD"},
		{"no password", "sip:\n  registrar: x\n", env(nil), []string{"sip.password"}, "missing secret"},
		{"unreadable password file", "sip:\n  registrar: x\n  password_file: /nope\n", env(nil), []string{"sip.password_file"}, "no such file"},
		{"no registrar", "", withPassword, []string{"sip.registrar"}, "required"},
		{"unknown key", "sip:\n  registrar: x\n  registar: y\n", withPassword, []string{"sip.registar"}, "unknown key"},
		{"bad enums", "line:\n  backend: usb\naudio:\n  backend: pulse\npulse:\n  standard: us\nsip:\n  registrar: x\n  mode: sipgate\n  transport: sctp\nphone:\n  error_tone: beep\n",
			withPassword, []string{"audio.backend", "line.backend", "phone.error_tone", "pulse.standard", "sip.mode", "sip.transport"}, "want one of"},
		{"gpio pins", "line:\n  backend: gpio\n  gpio:\n    hook: {line: '17'}\n    hook_pull: sideways\nsip:\n  registrar: x\n", withPassword,
			[]string{"line.gpio.hook.chip", "line.gpio.hook_pull", "line.gpio.reverse.line", "line.gpio.ringer.line", "line.gpio.talk.line"}, "required"},
		{"serial port", "line:\n  backend: serial\n  serial:\n    baud: 0\nsip:\n  registrar: x\n", withPassword,
			[]string{"line.serial.baud", "line.serial.port"}, "ttyACM0"},
		{"phone", "phone:\n  digit_map: '(1xx'\n  tone_zone: xx\n  flash_digit: Z\n  inter_digit_timeout: 1ms\nsip:\n  registrar: x\n", withPassword,
			[]string{"phone.digit_map", "phone.flash_digit", "phone.inter_digit_timeout", "phone.tone_zone"}, "want"},
		{"flash window", "pulse:\n  flash_min: 2s\nsip:\n  registrar: x\n", withPassword, []string{"pulse"}, "flash window"},
		{"addresses", "http:\n  listen: 0.0.0.0:80\nsip:\n  registrar: 'a b'\n  bind: nowhere\n  rtp_ports: '10001-10000'\n  expiry: 5s\n", withPassword,
			[]string{"http.listen", "sip.bind", "sip.expiry", "sip.registrar", "sip.rtp_ports"}, "loopback"},
		{"alsa", "audio:\n  alsa:\n    driver: pipewire\n    device: ''\n    rate: 22050\n    period: 1s\n    periods: 1\nsip:\n  registrar: x\n", withPassword,
			[]string{"audio.alsa.driver", "audio.alsa.period", "audio.alsa.periods", "audio.alsa.rate"}, "want"},
		{"gain", "audio:\n  mic_gain_db: 99\nsip:\n  registrar: x\n", withPassword, []string{"audio.mic_gain_db"}, "dB"},
		{"twilio", "sip:\n  mode: twilio\n  registrar: pbx.local\n", env(map[string]string{"KURODENWA_SIP_PASSWORD": "short"}),
			[]string{"sip.password", "sip.registrar"}, "NAME.sip.twilio.com"},
		{"wrong type", "line:\n  serial:\n    baud: fast\nsip:\n  registrar: x\n", withPassword, []string{"line.serial.baud"}, "wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml), "gw.yaml", tt.env)
			var ie *confkit.InvalidError
			require.ErrorAs(t, err, &ie)
			var keys []string
			for _, p := range ie.Problems {
				keys = append(keys, p.Key)
			}
			assert.Equal(t, tt.keys, keys)
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "gw.yaml: "))
		})
	}
}

func TestTwilioMode(t *testing.T) {
	c, err := config.Parse([]byte("sip:\n  mode: twilio\n  registrar: kurodenwa.sip.twilio.com\n  transport: tls\n  user: blackphone\n"), "t",
		env(map[string]string{"KURODENWA_SIP_PASSWORD": "Abcdefgh1234"}))
	require.NoError(t, err)
	assert.Equal(t, "sip:blackphone@kurodenwa.sip.twilio.com", c.AOR())
}

func TestOpen(t *testing.T) {
	c, err := config.Parse([]byte("sip:\n  registrar: pbx.local:5060\n"), "o", withPassword)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.NewManual(time.Unix(0, 0))
	l, err := c.OpenLine(context.Background(), clk, log)
	require.NoError(t, err)
	assert.IsType(t, &sim.Line{}, l)
	require.NoError(t, l.Close())
	a, err := c.OpenAudio(clk, log)
	require.NoError(t, err)
	assert.IsType(t, &silence.Device{}, a)

	c.Line.Backend, c.Line.Serial.Port = "serial", "/dev/kurodenwa-none"
	l, err = c.OpenLine(context.Background(), clk, log)
	require.NoError(t, err)
	assert.Contains(t, l.Status(), "/dev/kurodenwa-none")
	require.NoError(t, l.Close())

	c.Audio.Backend = "file"
	c.Audio.File.Output = filepath.Join(t.TempDir(), "out.wav")
	a, err = c.OpenAudio(clk, log)
	require.NoError(t, err)
	require.NoError(t, a.Close())
	c.Audio.Backend = "alsa"
	_, err = c.OpenAudio(clk, log)
	assert.Error(t, err) // no card here, or a build without ALSA
	c.Audio.Backend, c.Line.Backend = "x", "x"
	_, err = c.OpenAudio(clk, log)
	assert.Error(t, err)
	_, err = c.OpenLine(context.Background(), clk, log)
	assert.Error(t, err)
	_, err = config.Load("/nonexistent.yaml", withPassword)
	assert.ErrorContains(t, err, "read config")
}

func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("sip:\n  registrar: x\nline:\n  backend: gpio\n"))
	f.Add([]byte("phone: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data, "fuzz.yaml", withPassword)
		if err != nil {
			var ie *confkit.InvalidError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		if _, err := c.PhoneConfig(); err != nil {
			t.Fatalf("valid config, bad phone config: %v", err)
		}
		pc, _ := c.PhoneConfig()
		if _, err := phone.New(pc); err != nil {
			t.Fatalf("valid config, machine refuses it: %v", err)
		}
		if _, err := c.PulseConfig(); err != nil {
			t.Fatalf("valid config, bad pulse config: %v", err)
		}
	})
}
