// Package ansible_test provisions two Debian root filesystems, made with
// debootstrap and reached with ansible's community.general.chroot
// connection, with ansible/site.yml: the pbx play into one, the phone play
// into the other. It checks that the first run succeeds, that a second run
// changes nothing, that every promised file, unit and user is there with the
// right owner and mode, that no secret reaches ansible's output, and how the
// pbx play fails: a reload Asterisk rejects (the old files come back), an
// unsupported Asterisk, no Asterisk at all.
//
// Only what cannot exist in a chroot is faked: Asterisk (a script that
// answers -V and logs -rx commands), the Raspberry Pi's device-tree model
// and boot partition; no systemd runs, so units are installed and enabled
// but not started. Nothing is mounted and nothing listens.
package ansible_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	asteriskconf "github.com/kurodenwa/kurodenwa/asterisk-conf"
	"github.com/kurodenwa/kurodenwa/internal/site"
	gwconfig "github.com/kurodenwa/kurodenwa/pi-gateway/config"
)

// env is one test's world: the two chroots, the inventory, the logs.
type env struct {
	t                    *testing.T
	ctx                  context.Context
	repo, work           string
	site                 string // the snapshot of the example site the plays use
	pbx, phone           string
	inventory, vaultPass string
	secrets              map[string]string // vault variable -> value
	outputs              []string          // every ansible-playbook output, for the leak check
	runs                 int
}

func TestSitePlaybook(t *testing.T) {
	requireProvisioningTools(t)
	repo := repoRoot(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipping: the ansible test builds ari-app and needs go on PATH")
	}
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-30*time.Second))
		defer cancel()
	}

	// The phone play builds ./pi-gateway; until it has a main package, a stub.
	piGatewaySrc, piGatewayPkg := repo, "./pi-gateway"
	if out, err := exec.Command(goBin, "list", "-C", repo, "-f", "{{.Name}}", "./pi-gateway").Output(); err != nil || strings.TrimSpace(string(out)) != "main" {
		t.Log("pi-gateway has no main package yet: the phone play installs a stub binary in its place")
		piGatewaySrc, piGatewayPkg = filepath.Join(repo, "test", "ansible", "testdata", "stub-pi-gateway"), "."
	}

	tarball := rootfsTarball(ctx, t)

	work, err := os.MkdirTemp("", "kdansible-")
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			cleanupTree(work)
			t.Logf("kept for inspection (chroots, inventory, ansible logs): %s", work)
			return
		}
		if err := removeTree(work); err != nil {
			t.Errorf("remove %s: %v", work, err)
		}
	})
	e := &env{t: t, ctx: ctx, repo: repo, work: work, pbx: filepath.Join(work, "pbx"), phone: filepath.Join(work, "phone")}
	// The example site as it is now, so that the plays and the checks read
	// the same file.
	exampleSite, err := os.ReadFile(filepath.Join(repo, "asterisk-conf", "examples", "site.yaml"))
	require.NoError(t, err)
	e.site = filepath.Join(work, "site.yaml")
	require.NoError(t, os.WriteFile(e.site, exampleSite, 0o644))
	start := time.Now()
	for _, root := range []string{e.pbx, e.phone} {
		require.NoError(t, os.Mkdir(root, 0o755))
		if out, err := runLogged(ctx, filepath.Join(work, "tar.log"), "", nil, "tar", "-C", root, "--numeric-owner", "-xf", tarball); err != nil {
			t.Fatalf("unpack %s: %v\n%s", tarball, err, tail(out, 20))
		}
	}
	t.Logf("unpacked two root filesystems in %s", time.Since(start).Round(100*time.Millisecond))
	e.fakePBX()
	e.fakePi()
	e.writeInventory(goBin, piGatewaySrc, piGatewayPkg)

	// First run: everything is new.
	first := e.playbook()
	for _, h := range []string{"pbx-chroot", "phone-chroot"} {
		require.Contains(t, first, h)
		assert.Greater(t, first[h].changed, 0, "first run on %s", h)
	}
	cliAfterFirst := e.readFile(e.pbx, "/var/lib/fake-asterisk/cli.log")

	// Second run: nothing to do.
	second := e.playbook()
	for _, h := range []string{"pbx-chroot", "phone-chroot"} {
		require.Contains(t, second, h)
		assert.Equal(t, 0, second[h].changed, "second run must change nothing on %s: %s", h, second[h].line)
	}
	assert.Equal(t, cliAfterFirst, e.readFile(e.pbx, "/var/lib/fake-asterisk/cli.log"), "the second run reloaded Asterisk")

	t.Run("pbx", func(t *testing.T) { e.checkPBX(t, cliAfterFirst) })
	t.Run("phone", func(t *testing.T) { e.checkPhone(t) })
	t.Run("failed reload restores the backup", func(t *testing.T) { e.checkFailedReload(t) })
	t.Run("unsupported Asterisk", func(t *testing.T) { e.checkUnsupportedAsterisk(t) })
	t.Run("no Asterisk and no package", func(t *testing.T) { e.checkMissingAsterisk(t) })
	t.Run("no secret in ansible's output", func(t *testing.T) {
		for _, out := range e.outputs {
			for name, v := range e.secrets {
				assert.NotContains(t, out, v, "the value of %s appears in ansible's output", name)
			}
		}
	})
}

// fakePBX makes the pbx chroot look like a Debian with Asterisk's package:
// the asterisk user and its directories, a stock pjsip.conf, and a fake
// asterisk binary.
func (e *env) fakePBX() {
	t := e.t
	data, err := os.ReadFile(filepath.Join(e.repo, "test", "ansible", "testdata", "fake-asterisk"))
	require.NoError(t, err)
	e.writeFile(e.pbx, "/usr/sbin/asterisk", string(data), 0o755)
	e.writeFile(e.pbx, "/var/lib/fake-asterisk/version", "22.10.1\n", 0o644)
	e.writeFile(e.pbx, "/var/lib/fake-asterisk/cli.log", "", 0o644)
	e.chroot(e.pbx, "useradd", "--system", "--user-group", "--home-dir", "/var/lib/asterisk", "--shell", "/usr/sbin/nologin", "asterisk")
	e.writeFile(e.pbx, "/etc/asterisk/pjsip.conf", "; stock pjsip.conf of the asterisk package\n", 0o640)
	for _, d := range []string{"/var/log/asterisk", "/var/lib/asterisk"} {
		require.NoError(t, os.MkdirAll(filepath.Join(e.pbx, d), 0o750))
	}
	e.chroot(e.pbx, "chown", "-R", "asterisk:asterisk", "/etc/asterisk", "/var/log/asterisk", "/var/lib/asterisk")
}

// fakePi gives the phone chroot a Raspberry Pi's model and boot partition.
func (e *env) fakePi() {
	e.writeFile(e.phone, "/sys/firmware/devicetree/base/model", "Raspberry Pi 4 Model B Rev 1.5\x00", 0o444)
	e.writeFile(e.phone, "/boot/firmware/config.txt", "# stock\n[all]\ndtparam=audio=on\n", 0o755)
	e.writeFile(e.phone, "/boot/firmware/cmdline.txt", "console=serial0,115200 console=tty1 root=PARTUUID=12345678-02 rootfstype=ext4 rootwait\n", 0o755)
}

// writeInventory copies the example inventory's group_vars and files, puts
// the chroots in hosts.yml, and replaces the example vault with an
// encrypted one holding secrets made up now.
func (e *env) writeInventory(goBin, piGatewaySrc, piGatewayPkg string) {
	t := e.t
	e.inventory = filepath.Join(e.work, "inventory")
	example := filepath.Join(e.repo, "ansible", "inventory", "example")
	if out, err := exec.Command("cp", "-a", example+"/.", e.inventory).CombinedOutput(); err != nil {
		t.Fatalf("copy the example inventory: %v\n%s", err, out)
	}
	// nft -c asks the kernel; where it cannot (no nf_tables), skip the check.
	validate := true
	if out, err := exec.Command("chroot", e.pbx, "nft", "-c", "-f", "/etc/nftables.conf").CombinedOutput(); err != nil {
		t.Logf("nft -c does not work here (%s): the rules are installed unchecked", strings.TrimSpace(string(out)))
		validate = false
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	hosts := fmt.Sprintf(`# Made by test/ansible: the example inventory's groups, on two chroots.
all:
  vars:
    ansible_connection: community.general.chroot
    ansible_python_interpreter: /usr/bin/python3
    ansible_become: false
    kurodenwa_go: %s
    kurodenwa_build_dir: %s
  children:
    pbx:
      hosts:
        pbx-chroot:
          ansible_host: %s
          kurodenwa_site_file: %s
          firewall_validate: %t
    phone:
      hosts:
        phone-chroot:
          ansible_host: %s
          pi_gateway_src_dir: %s
          pi_gateway_package: %s
          raspberry_pi_enable_uart: true
`, q(goBin), q(filepath.Join(e.work, "build")), q(e.pbx), q(e.site), validate, q(e.phone), q(piGatewaySrc), q(piGatewayPkg))
	require.NoError(t, os.WriteFile(filepath.Join(e.inventory, "hosts.yml"), []byte(hosts), 0o644))

	// Made-up secrets, each strong enough for ari-app; one has every
	// character secrets.env must escape.
	e.secrets = map[string]string{}
	for _, name := range []string{"ari", "twilio", "blackphone", "linphone", "agephone", "minato"} {
		e.secrets["vault_kurodenwa_"+name+"_password"] = "Test" + randomHex(t, 8) + "Q7"
	}
	e.secrets["vault_kurodenwa_agephone_password"] = `Age$HOME"x\` + "`" + randomHex(t, 6) + "Z9"
	var vault strings.Builder
	vault.WriteString("---\n# Made up by test/ansible for one run.\n")
	names := make([]string, 0, len(e.secrets))
	for k := range e.secrets {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&vault, "%s: %s\n", k, q(e.secrets[k]))
	}
	vaultFile := filepath.Join(e.inventory, "group_vars", "all", "vault.yml")
	require.NoError(t, os.WriteFile(vaultFile, []byte(vault.String()), 0o600))
	e.vaultPass = filepath.Join(e.work, "vault-password")
	require.NoError(t, os.WriteFile(e.vaultPass, []byte(randomHex(t, 16)+"\n"), 0o600))
	if out, err := runLogged(e.ctx, filepath.Join(e.work, "ansible-vault.log"), "", e.ansibleEnv(), "ansible-vault", "encrypt", "--vault-password-file", e.vaultPass, vaultFile); err != nil {
		t.Fatalf("ansible-vault encrypt: %v\n%s", err, out)
	}
}

func (e *env) ansibleEnv() []string {
	return append(os.Environ(),
		"ANSIBLE_CONFIG="+filepath.Join(e.repo, "ansible", "ansible.cfg"),
		"ANSIBLE_HOME="+filepath.Join(e.work, "ansible-home"),
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(e.work, "ansible-home", "tmp"),
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks",
	)
}

// run runs ansible-playbook site.yml with extra arguments; it returns the
// output and the error, and logs the recap and the time taken.
func (e *env) run(args ...string) (string, error) {
	e.runs++
	logPath := filepath.Join(e.work, fmt.Sprintf("run%d.log", e.runs))
	argv := append([]string{"-i", filepath.Join(e.inventory, "hosts.yml"), "site.yml", "--diff", "--vault-password-file", e.vaultPass}, args...)
	start := time.Now()
	out, err := runLogged(e.ctx, logPath, filepath.Join(e.repo, "ansible"), e.ansibleEnv(), "ansible-playbook", argv...)
	e.outputs = append(e.outputs, out)
	var lines []string
	for _, r := range parseRecap(out) {
		lines = append(lines, r.line)
	}
	sort.Strings(lines)
	e.t.Logf("run %d (%s) took %s: %s", e.runs, strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond), strings.Join(lines, " | "))
	return out, err
}

// playbook runs the whole playbook and requires success.
func (e *env) playbook() map[string]recap {
	out, err := e.run()
	if err != nil {
		e.t.Fatalf("ansible-playbook failed: %v\n%s", err, tail(out, 60))
	}
	return parseRecap(out)
}

func (e *env) chroot(root string, argv ...string) string {
	e.t.Helper()
	out, err := exec.CommandContext(e.ctx, "chroot", append([]string{root}, argv...)...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("chroot %s %s: %v\n%s", filepath.Base(root), strings.Join(argv, " "), err, out)
	}
	return string(out)
}

func (e *env) writeFile(root, path, data string, mode os.FileMode) {
	e.t.Helper()
	p := filepath.Join(root, path)
	require.NoError(e.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(e.t, os.WriteFile(p, []byte(data), mode))
	require.NoError(e.t, os.Chmod(p, mode))
}

func (e *env) readFile(root, path string) string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	require.NoError(e.t, err)
	return string(b)
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// owner is a file's mode and owner as names inside its chroot.
type owner struct {
	mode        os.FileMode
	user, group string
}

func (e *env) owner(t *testing.T, root, path string) owner {
	t.Helper()
	st, err := os.Lstat(filepath.Join(root, path))
	require.NoError(t, err, path)
	sys := st.Sys().(*syscall.Stat_t)
	return owner{
		mode:  st.Mode().Perm(),
		user:  lookupID(t, root, "/etc/passwd", int(sys.Uid)),
		group: lookupID(t, root, "/etc/group", int(sys.Gid)),
	}
}

// lookupID names a uid or gid from the chroot's passwd or group file.
func lookupID(t *testing.T, root, file string, id int) string {
	b, err := os.ReadFile(filepath.Join(root, file))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[2] == fmt.Sprint(id) {
			return f[0]
		}
	}
	return fmt.Sprint(id)
}

// entry returns the fields of name's line in a chroot's passwd or group.
func entry(t *testing.T, root, file, name string) []string {
	b, err := os.ReadFile(filepath.Join(root, file))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, ":"); f[0] == name {
			return f
		}
	}
	t.Fatalf("%s has no %s", file, name)
	return nil
}

func (e *env) assertFile(t *testing.T, root, path string, want owner) {
	t.Helper()
	assert.Equal(t, want, e.owner(t, root, path), path)
}

func (e *env) assertEnabled(t *testing.T, root, unit, target string) {
	t.Helper()
	link := filepath.Join(root, "etc/systemd/system", target+".wants", unit)
	dest, err := os.Readlink(link)
	if assert.NoError(t, err, "%s is not enabled (%s)", unit, target) {
		assert.Equal(t, unit, filepath.Base(dest), link)
	}
}

// sourceEnv reads an environment file in the chroot with sh: systemd's
// EnvironmentFile and sh agree on the double-quoted form written there.
func (e *env) sourceEnv(t *testing.T, root, path string) map[string]string {
	out := e.chroot(root, "/bin/sh", "-c", `set -a; . "$1"; env -0`, "sh", path)
	vars := map[string]string{}
	for _, kv := range strings.Split(out, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "KURODENWA_") {
			vars[k] = v
		}
	}
	return vars
}

// checkUnit has systemd check a unit in its chroot: `systemd-analyze
// verify` (syntax, and that ExecStart's binary is there) and the exposure
// score of `systemd-analyze security`, 0 (locked down) to 10 (exposed).
func (e *env) checkUnit(t *testing.T, root, unit string, maxExposure float64) {
	t.Helper()
	path := "/etc/systemd/system/" + unit
	if out, err := exec.CommandContext(e.ctx, "chroot", root, "systemd-analyze", "verify", path).CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
	if maxExposure <= 0 {
		return
	}
	out := e.chroot(root, "systemd-analyze", "security", "--offline=yes", "--no-pager", path)
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindStringSubmatch(out)
	if assert.NotNil(t, m, "systemd-analyze security %s:\n%s", unit, out) {
		exposure, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		assert.LessOrEqual(t, exposure, maxExposure, "exposure of %s", unit)
		t.Logf("systemd-analyze security: %s exposure %.1f", unit, exposure)
	}
}

func (e *env) checkPBX(t *testing.T, cliAfterFirst string) {
	root := e.pbx
	user := entry(t, root, "/etc/passwd", "kurodenwa")
	assert.Equal(t, "/usr/sbin/nologin", user[6], "kurodenwa's shell")
	assert.Less(t, atoi(user[2]), 1000, "kurodenwa is a system user")
	assert.Equal(t, entry(t, root, "/etc/group", "kurodenwa")[2], user[3], "kurodenwa's primary group")

	e.assertFile(t, root, "/usr/local/bin/ari-app", owner{0o755, "root", "root"})
	assert.Contains(t, e.chroot(root, "/usr/local/bin/ari-app", "help"), "usage:")
	e.assertFile(t, root, "/etc/kurodenwa", owner{0o750, "root", "kurodenwa"})
	e.assertFile(t, root, "/var/lib/kurodenwa", owner{0o750, "kurodenwa", "kurodenwa"})
	e.assertFile(t, root, "/etc/kurodenwa/site.yaml", owner{0o640, "root", "kurodenwa"})
	exampleSite, err := os.ReadFile(e.site)
	require.NoError(t, err)
	assert.Equal(t, string(exampleSite), e.readFile(root, "/etc/kurodenwa/site.yaml"))

	e.assertFile(t, root, "/etc/kurodenwa/secrets.env", owner{0o640, "root", "kurodenwa"})
	env := map[string]string{
		"KURODENWA_ARI_PASSWORD":                   e.secrets["vault_kurodenwa_ari_password"],
		"KURODENWA_TWILIO_PASSWORD":                e.secrets["vault_kurodenwa_twilio_password"],
		"KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD": e.secrets["vault_kurodenwa_blackphone_password"],
		"KURODENWA_EXTENSIONS_LINPHONE_PASSWORD":   e.secrets["vault_kurodenwa_linphone_password"],
		"KURODENWA_EXTENSIONS_AGEPHONE_PASSWORD":   e.secrets["vault_kurodenwa_agephone_password"],
		"KURODENWA_PEERS_MINATO_PASSWORD":          e.secrets["vault_kurodenwa_minato_password"],
	}
	assert.Equal(t, env, e.sourceEnv(t, root, "/etc/kurodenwa/secrets.env"), "secrets.env read back")

	unit := "kurodenwa-ari-app.service"
	e.assertFile(t, root, "/etc/systemd/system/"+unit, owner{0o644, "root", "root"})
	text := e.readFile(root, "/etc/systemd/system/"+unit)
	for _, line := range []string{
		"User=kurodenwa", "Group=kurodenwa", "Restart=on-failure", "EnvironmentFile=/etc/kurodenwa/secrets.env",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"ReadWritePaths=/var/lib/kurodenwa", "CapabilityBoundingSet=", "AmbientCapabilities=",
	} {
		assert.Contains(t, strings.Split(text, "\n"), line, unit)
	}
	assert.Contains(t, text, "\nExecStart=/usr/local/bin/ari-app serve --site /etc/kurodenwa/site.yaml ")
	e.assertEnabled(t, root, unit, "multi-user.target")
	e.checkUnit(t, root, unit, 2.0)

	// /etc/asterisk holds exactly what ari-app renders from the site and
	// the vault's secrets.
	s, err := site.Load(e.site, site.Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	require.NoError(t, err)
	files, err := asteriskconf.Render(s)
	require.NoError(t, err)
	require.Len(t, files, len(asteriskconf.Names()))
	for _, f := range files {
		path := "/etc/asterisk/" + f.Name
		e.assertFile(t, root, path, owner{os.FileMode(f.Mode), "root", "asterisk"})
		assert.Equal(t, string(f.Data), e.readFile(root, path), path)
	}
	e.assertFile(t, root, "/var/lib/kurodenwa-deploy", owner{0o700, "root", "root"})
	e.assertFile(t, root, "/var/lib/kurodenwa-deploy/staging", owner{0o700, "root", "root"})
	backups, err := filepath.Glob(filepath.Join(root, "var/lib/kurodenwa-deploy/backup/*/pjsip.conf"))
	require.NoError(t, err)
	if assert.Len(t, backups, 1, "one backup: the stock pjsip.conf") {
		b, _ := os.ReadFile(backups[0])
		assert.Equal(t, "; stock pjsip.conf of the asterisk package\n", string(b))
	}
	// Each changed file reloaded its module once; modules.conf needs a restart.
	var reloads []string
	for _, l := range strings.Split(strings.TrimSpace(cliAfterFirst), "\n") {
		if l != "core show version" {
			reloads = append(reloads, l)
		}
	}
	assert.Equal(t, []string{
		"module reload logger", "module reload res_pjsip.so", "dialplan reload", "module reload res_ari.so",
		"module reload http", "module reload res_rtp_asterisk.so", "module reload indications",
		"module reload res_musiconhold.so", "module reload manager",
	}, reloads)

	// Firewall: the site's sources, its own table, its own unit.
	e.assertFile(t, root, "/etc/kurodenwa/nftables.nft", owner{0o644, "root", "root"})
	nft := e.readFile(root, "/etc/kurodenwa/nftables.nft")
	for _, want := range append(site.DefaultTwilioSignalingCIDRs(),
		"168.86.128.0/18", "192.168.1.0/24", "10.88.0.0/16", "10.88.1.2",
		"udp dport { 5060 } jump sip", "tcp dport { 5060, 5061 } jump sip", "udp dport 10000-10999 jump rtp",
		"tcp dport { 5038 } jump ami", "table inet kurodenwa {") {
		assert.Contains(t, nft, want, "nftables.nft")
	}
	// ARI's ports, and the app's HTTP API (ari.api) when the site has one.
	assert.Regexp(t, `\ttcp dport \{ 8088, 8089(, [0-9]+)* \} jump ari\n`, nft)
	e.assertFile(t, root, "/etc/systemd/system/kurodenwa-firewall.service", owner{0o644, "root", "root"})
	e.assertEnabled(t, root, "kurodenwa-firewall.service", "sysinit.target")
	e.checkUnit(t, root, "kurodenwa-firewall.service", 0)

	// fail2ban: the jail reads the security log and bans with nftables, and
	// its filter matches the SecurityEvent lines Asterisk writes there.
	e.assertFile(t, root, "/etc/fail2ban/jail.d/kurodenwa-asterisk.conf", owner{0o644, "root", "root"})
	e.assertFile(t, root, "/var/log/asterisk/security.log", owner{0o640, "asterisk", "asterisk"})
	dump := e.chroot(root, "fail2ban-client", "-d")
	assert.Contains(t, dump, "['set', 'asterisk', 'addlogpath', '/var/log/asterisk/security.log', 'head']")
	assert.Contains(t, dump, "['set', 'asterisk', 'addaction', 'nftables-multiport-udp']")
	e.writeFile(root, "/tmp/security-sample.log",
		`[2026-01-02 03:04:05] SECURITY[1234] res_security_log.c: SecurityEvent="InvalidAccountID",EventTV="2026-01-02T03:04:05.000+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="sip:100@192.0.2.1",SessionID="1",LocalAddress="IPV4/UDP/192.0.2.1/5060",RemoteAddress="IPV4/UDP/203.0.113.5/5060"`+"\n"+
			`[2026-01-02 03:04:06] SECURITY[1234] res_security_log.c: SecurityEvent="ChallengeResponseFailed",EventTV="2026-01-02T03:04:06.000+0000",Severity="Error",Service="PJSIP",EventVersion="1",AccountID="blackphone",SessionID="2",LocalAddress="IPV4/UDP/192.0.2.1/5060",RemoteAddress="IPV4/UDP/203.0.113.6/5060",Challenge="a",Response="b",ExpectedResponse=""`+"\n", 0o644)
	assert.Contains(t, e.chroot(root, "fail2ban-regex", "/tmp/security-sample.log", "/etc/fail2ban/filter.d/asterisk.conf"), "2 matched, 0 missed")
	e.assertEnabled(t, root, "fail2ban.service", "multi-user.target")
}

func (e *env) checkPhone(t *testing.T) {
	root := e.phone
	user := entry(t, root, "/etc/passwd", "kurodenwa")
	assert.Equal(t, "/usr/sbin/nologin", user[6])
	assert.Less(t, atoi(user[2]), 1000)
	for _, g := range []string{"gpio", "dialout", "audio"} {
		assert.Contains(t, strings.Split(entry(t, root, "/etc/group", g)[3], ","), "kurodenwa", "kurodenwa in group %s", g)
	}
	e.assertFile(t, root, "/usr/local/bin/pi-gateway", owner{0o755, "root", "root"})
	e.assertFile(t, root, "/etc/kurodenwa/pi-gateway.yaml", owner{0o640, "root", "kurodenwa"})
	// The example configuration is a template: the role fills in the card.
	example, err := os.ReadFile(filepath.Join(e.repo, "ansible", "inventory", "example", "files", "pi-gateway.yaml"))
	require.NoError(t, err)
	installed := e.readFile(root, "/etc/kurodenwa/pi-gateway.yaml")
	assert.Equal(t, strings.ReplaceAll(string(example), "{{ pi_gateway_alsa_device }}", "default"), installed)
	// pi-gateway itself accepts it, and it opens the USB card: the ALSA
	// backend through arecord/aplay (the CGO_ENABLED=0 build's driver) on
	// ALSA's default PCM, which /etc/asound.conf makes the card.
	gw, err := gwconfig.Parse([]byte(installed), "pi-gateway.yaml", gwconfig.Options{
		LookupEnv: func(k string) (string, bool) {
			return e.secrets["vault_kurodenwa_blackphone_password"], k == "KURODENWA_SIP_PASSWORD"
		},
	})
	require.NoError(t, err, "the installed pi-gateway.yaml")
	assert.Equal(t, "alsa", gw.Audio.Backend)
	assert.Equal(t, gwconfig.ALSA{Driver: "alsa-utils", Device: "default", Rate: 48000, Period: 10 * time.Millisecond, Periods: 3}, gw.Audio.ALSA)
	// What that driver runs is there, installed by the play before
	// pi-gateway's role (alsa, then pi_gateway, in site.yml).
	for _, prog := range []string{"arecord", "aplay"} {
		assert.Contains(t, e.chroot(root, prog, "--version"), prog+": version", "%s runs", prog)
	}
	assert.Contains(t, e.chroot(root, "dpkg-query", "-W", "-f", "${Status}", "alsa-utils"), "install ok installed")
	if out := e.outputs[0]; assert.Contains(t, out, "TASK [alsa : Make the USB card ALSA's default device]") {
		assert.Less(t, strings.Index(out, "TASK [alsa : Make the USB card ALSA's default device]"), strings.Index(out, "TASK [pi_gateway : Start pi-gateway]"),
			"the card is set up before pi-gateway starts")
	}
	e.assertFile(t, root, "/etc/kurodenwa/secrets.env", owner{0o640, "root", "kurodenwa"})
	assert.Equal(t, map[string]string{"KURODENWA_SIP_PASSWORD": e.secrets["vault_kurodenwa_blackphone_password"]},
		e.sourceEnv(t, root, "/etc/kurodenwa/secrets.env"))

	unit := "kurodenwa-pi-gateway.service"
	e.assertFile(t, root, "/etc/systemd/system/"+unit, owner{0o644, "root", "root"})
	lines := strings.Split(e.readFile(root, "/etc/systemd/system/"+unit), "\n")
	for _, line := range []string{
		"User=kurodenwa", "SupplementaryGroups=gpio dialout audio", "Restart=on-failure",
		"DeviceAllow=char-gpiochip rw", "DeviceAllow=char-ttyACM rw", "DeviceAllow=char-ttyUSB rw", "DeviceAllow=char-alsa rw",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=",
		"ExecStart=/usr/local/bin/pi-gateway --config /etc/kurodenwa/pi-gateway.yaml",
	} {
		assert.Contains(t, lines, line, unit)
	}
	assert.NotContains(t, lines, "User=root")
	e.assertEnabled(t, root, unit, "multi-user.target")
	e.checkUnit(t, root, unit, 2.5)

	e.assertFile(t, root, "/etc/udev/rules.d/60-kurodenwa-gpio.rules", owner{0o644, "root", "root"})
	assert.Contains(t, e.readFile(root, "/etc/udev/rules.d/60-kurodenwa-gpio.rules"), `KERNEL=="gpiochip[0-9]*", GROUP="gpio", MODE="0660"`)
	e.assertFile(t, root, "/etc/asound.conf", owner{0o644, "root", "root"})
	assert.Contains(t, e.readFile(root, "/etc/asound.conf"), `slave.pcm "hw:CARD=Device,DEV=0"`)
	assert.Equal(t, "# stock\n[all]\ndtparam=audio=on\n# BEGIN kurodenwa (managed by ansible)\n[all]\nenable_uart=1\n# END kurodenwa (managed by ansible)\n",
		e.readFile(root, "/boot/firmware/config.txt"))
	assert.Equal(t, "console=tty1 root=PARTUUID=12345678-02 rootfstype=ext4 rootwait\n", e.readFile(root, "/boot/firmware/cmdline.txt"))
}

// checkFailedReload changes the RTP range in a copy of the site and makes
// Asterisk refuse the reload once: the play must fail, say so, put the old
// rtp.conf back and reload it.
func (e *env) checkFailedReload(t *testing.T) {
	root := e.pbx
	before := e.readFile(root, "/etc/asterisk/rtp.conf")
	orig, err := os.ReadFile(e.site)
	require.NoError(t, err)
	changed := strings.Replace(string(orig), "end: 10999", "end: 10899", 1)
	require.NotEqual(t, string(orig), changed)
	sitePath := filepath.Join(e.work, "site-changed.yaml")
	require.NoError(t, os.WriteFile(sitePath, []byte(changed), 0o644))
	e.writeFile(root, "/var/lib/fake-asterisk/fail-once-res_rtp_asterisk.so", "", 0o644)
	e.writeFile(root, "/var/lib/fake-asterisk/cli.log", "", 0o644)

	out, err := e.run("--limit", "pbx", "-e", "kurodenwa_site_file="+sitePath)
	require.Error(t, err, "the play must fail when a reload fails")
	assert.Contains(t, out, "Asterisk did not take the new configuration")
	assert.Contains(t, out, "The module 'res_rtp_asterisk.so' reported a reload failure")
	assert.Equal(t, before, e.readFile(root, "/etc/asterisk/rtp.conf"), "rtp.conf restored")
	e.assertFile(t, root, "/etc/asterisk/rtp.conf", owner{0o644, "root", "asterisk"})
	assert.Equal(t, "core show version\nmodule reload res_rtp_asterisk.so\nmodule reload res_rtp_asterisk.so\n",
		e.readFile(root, "/var/lib/fake-asterisk/cli.log"), "reloaded, failed, restored, reloaded again")
	r := parseRecap(out)["pbx-chroot"]
	assert.Equal(t, 1, r.res, "rescued")
	assert.Equal(t, 1, r.failed)
}

func (e *env) checkUnsupportedAsterisk(t *testing.T) {
	e.writeFile(e.pbx, "/var/lib/fake-asterisk/version", "16.2.1\n", 0o644)
	defer e.writeFile(e.pbx, "/var/lib/fake-asterisk/version", "22.10.1\n", 0o644)
	out, err := e.run("--limit", "pbx", "--tags", "asterisk_check")
	require.Error(t, err)
	assert.Contains(t, out, `says \"Asterisk 16.2.1\": kurodenwa needs Asterisk 18 to 22`)
}

// checkMissingAsterisk removes the fake Asterisk and apt's sources: the play
// must look for a package, find none, and say what to install.
func (e *env) checkMissingAsterisk(t *testing.T) {
	rename := func(from, to string) {
		require.NoError(t, os.Rename(filepath.Join(e.pbx, from), filepath.Join(e.pbx, to)))
	}
	rename("/usr/sbin/asterisk", "/usr/sbin/asterisk.off")
	defer rename("/usr/sbin/asterisk.off", "/usr/sbin/asterisk")
	rename("/etc/apt/sources.list", "/etc/apt/sources.list.off")
	defer rename("/etc/apt/sources.list.off", "/etc/apt/sources.list")
	out, err := e.run("--limit", "pbx", "--tags", "asterisk_check")
	require.Error(t, err)
	assert.Contains(t, out, "Asterisk is not installed and Debian 12 has no asterisk package")
	assert.Contains(t, out, "This playbook never builds Asterisk from source.")
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
