package asteriskconf

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var sites = map[string]string{
	"example": "examples/site.yaml",
	"minimal": "testdata/minimal.yaml",
	"tls":     "testdata/tls.yaml",
}

func load(t *testing.T, path string) *site.Site {
	t.Helper()
	return sitetest.Load(t, path, nil)
}

func TestGolden(t *testing.T) {
	for name, path := range sites {
		t.Run(name, func(t *testing.T) {
			files, err := Render(load(t, path))
			require.NoError(t, err)
			require.Len(t, files, len(Names()))
			dir := filepath.Join("testdata", "golden", name)
			if *update {
				require.NoError(t, os.MkdirAll(dir, 0o755))
			}
			for _, f := range files {
				golden := filepath.Join(dir, f.Name)
				if *update {
					require.NoError(t, os.WriteFile(golden, f.Data, 0o644))
					continue
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run go test ./asterisk-conf -update to create it")
				assert.Equal(t, string(want), string(f.Data), "%s differs from %s (go test ./asterisk-conf -update rewrites it)", f.Name, golden)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	s := load(t, sites["example"])
	a, err := Render(s)
	require.NoError(t, err)
	for range 5 {
		b, err := Render(s)
		require.NoError(t, err)
		assert.Equal(t, a, b)
	}
}

func TestWriteDir(t *testing.T) {
	files, err := Render(load(t, sites["example"]))
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "etc", "asterisk")
	require.NoError(t, files.WriteDir(dir))
	require.NoError(t, files.WriteDir(dir), "rendering over an existing configuration replaces it")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, len(Names()), "no temporary files left behind")
	for _, f := range files {
		st, err := os.Stat(filepath.Join(dir, f.Name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(f.Mode), st.Mode().Perm(), f.Name)
	}
	pj, _ := files.Get("pjsip.conf")
	assert.Equal(t, uint32(0o640), pj.Mode, "pjsip.conf holds passwords")
	ari, _ := files.Get("ari.conf")
	assert.Equal(t, uint32(0o640), ari.Mode)
}

// section is one [name] block of an Asterisk .conf file.
type section struct {
	name string
	keys map[string][]string
}

func parseConf(t *testing.T, data []byte) []section {
	t.Helper()
	var out []section
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, ";"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			out = append(out, section{name: strings.Trim(line, "[]"), keys: map[string][]string{}})
			continue
		}
		require.NotEmpty(t, out, "a key before any section: %q", line)
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "not key=value: %q", line)
		k = strings.TrimSpace(strings.TrimSuffix(k, ">"))
		out[len(out)-1].keys[k] = append(out[len(out)-1].keys[k], strings.TrimSpace(strings.TrimPrefix(v, ">")))
	}
	return out
}

// The rendered PJSIP configuration must be safe whatever the site says.
func TestPJSIPSafety(t *testing.T) {
	for name, path := range sites {
		t.Run(name, func(t *testing.T) {
			s := load(t, path)
			files, err := Render(s)
			require.NoError(t, err)
			pj, _ := files.Get("pjsip.conf")
			secs := parseConf(t, pj.Data)
			for _, sec := range secs {
				assert.NotEqual(t, "anonymous", sec.name, "an anonymous endpoint would admit unauthenticated calls")
				if sec.keys["type"][0] != "endpoint" {
					continue
				}
				require.Len(t, sec.keys["context"], 1, "endpoint %s must name its context", sec.name)
				assert.Equal(t, []string{"no"}, sec.keys["direct_media"], sec.name)
				assert.Equal(t, []string{"ulaw,alaw"}, sec.keys["allow"], sec.name)
				assert.Equal(t, []string{"rfc4733"}, sec.keys["dtmf_mode"], sec.name)
				if sec.name == "twilio" {
					assert.Equal(t, []string{"from-twilio"}, sec.keys["context"])
					assert.Equal(t, []string{"ip"}, sec.keys["identify_by"], "Twilio is known by address only")
					assert.Equal(t, []string{"yes"}, sec.keys["rtp_symmetric"])
					assert.Equal(t, []string{"yes"}, sec.keys["force_rport"])
				} else if len(sec.keys["identify_by"]) == 0 || sec.keys["identify_by"][0] != "ip" {
					assert.NotEmpty(t, sec.keys["auth"], "endpoint %s is not identified by address, so it must authenticate", sec.name)
				}
			}
			for _, sec := range secs {
				if sec.name == "twilio-identify" {
					assert.Equal(t, s.Twilio.SignalingCIDRs, sec.keys["match"])
				}
			}
			for _, e := range s.Extensions {
				for _, sec := range secs {
					if sec.name == e.Endpoint() && sec.keys["type"][0] == "aor" {
						assert.Equal(t, []string{strconv.Itoa(e.MaxContacts)}, sec.keys["max_contacts"])
					}
				}
			}
		})
	}
}

// No path in the dialplan dials anything but what the route handler
// returned, and Twilio's calls are checked to be local before dialling.
func TestDialplanSafety(t *testing.T) {
	files, err := Render(load(t, sites["example"]))
	require.NoError(t, err)
	ext, _ := files.Get("extensions.conf")
	text := string(ext.Data)
	dials := regexp.MustCompile(`(?m)^[^;]*\bDial\((.*)\)`).FindAllStringSubmatch(text, -1)
	require.Len(t, dials, 1)
	assert.Equal(t, "${KD_DIAL},${KD_TIMEOUT},${LOCAL(options)}", dials[0][1])
	// The options are g, plus the pre-dial handler of peer legs.
	options := regexp.MustCompile(`Set\(LOCAL\(options\)=([^)]*(?:\)\))?)`).FindAllStringSubmatch(text, -1)
	require.Len(t, options, 2)
	assert.Equal(t, "g", options[0][1])
	assert.Equal(t, "gb(kd-peer-headers^s^1(${KD_HOPS}^${KD_PATH}))", options[1][1])
	for _, line := range strings.Split(text, "\n") {
		code, _, _ := strings.Cut(line, ";")
		if strings.Contains(code, "${EXTEN}") {
			assert.Regexp(t, `FILTER\([^,]+,\$\{EXTEN\}\)|Gosub\(kd-(outbound|inbound-peer),s,1\(\$\{CHANNEL\(endpoint\)\},\$\{EXTEN\}\)\)`, code,
				"${EXTEN} reaches nothing unfiltered: %q", line)
		}
	}
	twilio := text[strings.Index(text, "[kd-inbound-twilio]"):]
	twilio = twilio[:strings.Index(twilio, "\n[")]
	assert.Contains(t, twilio, `GotoIf($["${KD_ROUTE}" = "local"]?dial)`)
	assert.NotContains(t, twilio, `"pstn"`)
	assert.NotContains(t, twilio, `"peer"`)
	for _, ctx := range []string{"[from-twilio]", "[from-blackphone]", "[from-softphones]", "[from-peers]", "[kd-unauthenticated]", "[default]"} {
		assert.Contains(t, text, "\n"+ctx+"\n")
	}
}
