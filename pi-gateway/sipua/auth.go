package sipua

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// errNoChallenge means a 401/407 came without a usable challenge.
var errNoChallenge = errors.New("sipua: 401/407 without a digest challenge")

// authenticator answers digest challenges (RFC 3261 §22, MD5 as Twilio
// and Asterisk use) and remembers the last one, so a REGISTER refresh
// can carry credentials at once instead of costing a 401 round trip.
type authenticator struct {
	user, password string

	mu    sync.Mutex
	chal  *digest.Challenge
	proxy bool
	nc    int
}

// challengeOf reads the challenge of a 401 (WWW-Authenticate) or 407
// (Proxy-Authenticate) response.
func challengeOf(res *sip.Response) (*digest.Challenge, bool, error) {
	name, proxy := "WWW-Authenticate", false
	if res.StatusCode == sip.StatusProxyAuthRequired {
		name, proxy = "Proxy-Authenticate", true
	}
	for _, h := range res.GetHeaders(name) {
		v := h.Value()
		if !digest.IsDigest(v) {
			continue
		}
		chal, err := digest.ParseChallenge(v)
		if err != nil {
			return nil, proxy, fmt.Errorf("sipua: %s %q: %w", name, v, err)
		}
		chal.Algorithm = strings.ToUpper(chal.Algorithm)
		if !digest.CanDigest(chal) {
			return nil, proxy, fmt.Errorf("sipua: unsupported digest challenge (algorithm %q, qop %v)", chal.Algorithm, chal.QOP)
		}
		return chal, proxy, nil
	}
	return nil, proxy, errNoChallenge
}

// answer adds credentials for res's challenge to req and remembers it.
func (a *authenticator) answer(req *sip.Request, res *sip.Response) error {
	if err := a.remember(res); err != nil {
		return err
	}
	return a.sign(req)
}

// remember keeps res's challenge for the next request.
func (a *authenticator) remember(res *sip.Response) error {
	chal, proxy, err := challengeOf(res)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.chal, a.proxy, a.nc = chal, proxy, 0
	a.mu.Unlock()
	return nil
}

// preempt adds credentials from the remembered challenge, if any.
func (a *authenticator) preempt(req *sip.Request) {
	if err := a.sign(req); err != nil {
		// Without a remembered challenge the request goes unsigned and
		// the registrar's 401 supplies one.
		return
	}
}

// forget drops the remembered challenge (after a rejection).
func (a *authenticator) forget() {
	a.mu.Lock()
	a.chal = nil
	a.mu.Unlock()
}

func (a *authenticator) sign(req *sip.Request) error {
	a.mu.Lock()
	chal, proxy := a.chal, a.proxy
	a.nc++
	nc := a.nc
	a.mu.Unlock()
	if chal == nil {
		return errNoChallenge
	}
	body := req.Body()
	cred, err := digest.Digest(chal, digest.Options{
		Method:   string(req.Method),
		URI:      req.Recipient.String(),
		Username: a.user,
		Password: a.password,
		Count:    nc,
		GetBody:  func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
	})
	if err != nil {
		return fmt.Errorf("sipua: digest: %w", err)
	}
	name := "Authorization"
	if proxy {
		name = "Proxy-Authorization"
	}
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Proxy-Authorization")
	req.AppendHeader(sip.NewHeader(name, cred.String()))
	return nil
}
