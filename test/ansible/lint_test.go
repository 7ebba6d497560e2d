package ansible_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestPlaybookLint runs ansible-playbook --syntax-check and ansible-lint
// (production profile, from ansible/.ansible-lint) on the playbook.
func TestPlaybookLint(t *testing.T) {
	for _, tool := range []string{"ansible-playbook", "ansible-lint"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s is not installed (apt-get install ansible ansible-lint)", tool)
		}
	}
	dir := filepath.Join(repoRoot(t), "ansible")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := append(os.Environ(), "ANSIBLE_NOCOLOR=1", "NO_COLOR=1", "ANSIBLE_CONFIG="+filepath.Join(dir, "ansible.cfg"))

	t.Run("syntax-check", func(t *testing.T) {
		out, err := runLogged(ctx, "", dir, env, "ansible-playbook", "--syntax-check", "-i", "inventory/example/hosts.yml", "site.yml")
		if err != nil {
			t.Fatalf("ansible-playbook --syntax-check: %v\n%s", err, out)
		}
	})
	t.Run("ansible-lint", func(t *testing.T) {
		out, err := runLogged(ctx, "", dir, env, "ansible-lint", "--nocolor")
		if err != nil {
			t.Fatalf("ansible-lint: %v\n%s", err, out)
		}
		t.Log(tail(out, 1))
	})
}
