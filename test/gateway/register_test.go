package gateway

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// sippArgs are the options every sipp run here shares: loopback, its
// own ports, no terminal, traces in dir.
func sippArgs(t testing.TB, dir, scenario string, extra ...string) []string {
	t.Helper()
	sf := scenario
	if !filepath.IsAbs(sf) {
		var err error
		sf, err = filepath.Abs(filepath.Join("testdata", scenario))
		require.NoError(t, err)
	}
	args := []string{"-sf", sf, "-i", "127.0.0.1", "-p", fmt.Sprint(freePort(t)), "-mp", fmt.Sprint(freePort(t)),
		"-m", "1", "-nostdin", "-timeout", "60s", "-timeout_error",
		"-trace_msg", "-message_file", filepath.Join(dir, "sipp-messages.log"),
		"-trace_err", "-error_file", filepath.Join(dir, "sipp-errors.log")}
	return append(args, extra...)
}

// TestRegisterDigestAndRefresh: the UA registers to a sipp registrar that
// challenges with digest (401, then 200 granting 2 s), refreshes with the
// remembered challenge, answers a stale nonce, and unregisters when it
// stops. sipp exits 0 only if every credential checked out.
func TestRegisterDigestAndRefresh(t *testing.T) {
	sipp := needBinary(t, "sipp", "sip-tester")
	dir := workDir(t)
	port := freePort(t)
	args := sippArgs(t, dir, "registrar.xml")
	args[4+1] = fmt.Sprint(port) // -p: the registrar's port
	p := startProc(t, dir, "sipp-registrar", sipp, args...)

	ua, stop := startUA(t, sipua.Config{
		Password:  testPassword,
		Registrar: fmt.Sprintf("sip:127.0.0.1:%d", port),
		Expires:   time.Minute,
	})
	registered := 0
	deadline := time.After(20 * time.Second)
	for registered < 3 {
		select {
		case st := <-ua.RegistrationUpdates():
			t.Logf("registration: %s %v", st.Status, st.Err)
			require.NotEqual(t, sipua.RegFailed, st.Status, "registration failed: %v", st.Err)
			if st.Status == sipua.RegRegistered {
				registered++
			}
		case <-p.exited:
			t.Fatalf("sipp exited early: %v", p.err)
		case <-deadline:
			t.Fatalf("%d registrations within 20 s, want 3", registered)
		}
	}
	assert.Equal(t, sipua.RegRegistered, ua.Registration().Status)
	stop() // unregisters
	assert.Equal(t, sipua.RegStopped, ua.Registration().Status)
	require.NoError(t, p.wait(t, 10*time.Second), "sipp's scenario must complete: challenge, three good credentials, unregister")
}

// TestRegisterWrongPassword: the same registrar refuses a wrong password
// (verifyauth fails, 403), the UA reports it and backs off.
func TestRegisterWrongPassword(t *testing.T) {
	sipp := needBinary(t, "sipp", "sip-tester")
	dir := workDir(t)
	port := freePort(t)
	args := sippArgs(t, dir, "registrar.xml")
	args[4+1] = fmt.Sprint(port)
	p := startProc(t, dir, "sipp-registrar", sipp, args...)
	ua, _ := startUA(t, sipua.Config{Password: "Wrong-Password-99", Registrar: fmt.Sprintf("sip:127.0.0.1:%d", port)})
	for {
		select {
		case st := <-ua.RegistrationUpdates():
			if st.Status != sipua.RegFailed {
				continue
			}
			assert.Equal(t, 403, st.LastStatus)
			assert.True(t, st.Retry.After(time.Now().Add(time.Second)), "backs off about 2 s")
			assert.Error(t, p.wait(t, 10*time.Second), "sipp's scenario fails on a bad credential")
			return
		case <-time.After(15 * time.Second):
			t.Fatal("no failure reported within 15 s")
		}
	}
}
