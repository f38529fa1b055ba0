package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// The demo's week: a campaign decides to decommission three deploy keys,
// then the organisation changes as it really would, and a second snapshot
// shows what became of each — one removed where nhi looked, one renamed
// with its repository (still present), one in a repository the App no
// longer sees (not checked) — so diff, campaign verify and the report have
// something true to show.

// demoWeek is what changes in the sample organisation between the demo's
// two snapshots; each part is "" when the organisation is too small for it.
type demoWeek struct {
	removedRepo string
	removedKey  githubtest.DeployKey
	rotatedRepo string
	renamedRepo string // renamed to renamedRepo + "-legacy"
	hiddenRepo  string // the demo App is uninstalled from it
}

// planDemoWeek picks, in repository order, the first repository with a
// deploy key to lose it, then one with a secret to rotate it, then one
// with a deploy key to be renamed, then one with a deploy key the App
// stops seeing.
func planDemoWeek(o *githubtest.Org) demoWeek {
	var w demoWeek
	for _, r := range o.Repos {
		switch {
		case w.removedRepo == "" && len(r.DeployKeys) > 0:
			w.removedRepo, w.removedKey = r.Name, r.DeployKeys[0]
		case w.rotatedRepo == "" && len(r.Secrets) > 0:
			w.rotatedRepo = r.Name
		case w.renamedRepo == "" && len(r.DeployKeys) > 0:
			w.renamedRepo = r.Name
		case w.hiddenRepo == "" && len(r.DeployKeys) > 0:
			w.hiddenRepo = r.Name
		}
	}
	return w
}

// apply makes the week's changes to what srv serves, and says what it did.
func (w demoWeek) apply(out io.Writer, srv *githubtest.Server) {
	var visible []string
	srv.Mutate(func(o *githubtest.Org) {
		for _, r := range o.Repos {
			switch r.Name {
			case w.removedRepo:
				r.DeployKeys = r.DeployKeys[1:]
			case w.rotatedRepo:
				r.Secrets[0].UpdatedAt = githubtest.Reference.AddDate(0, 0, 7)
			case w.renamedRepo:
				r.Name += "-legacy"
			case w.hiddenRepo:
				continue
			}
			visible = append(visible, r.Name)
		}
	})
	if w.hiddenRepo != "" {
		srv.SetAppRepos(visible)
	}
	fmt.Fprintf(out, "A week later:%s%s%s%s\n",
		said(w.removedRepo, fmt.Sprintf(" removed deploy key %q of %s;", w.removedKey.Title, w.removedRepo)),
		said(w.rotatedRepo, " rotated a secret of "+w.rotatedRepo+";"),
		said(w.renamedRepo, " renamed "+w.renamedRepo+" → "+w.renamedRepo+"-legacy;"),
		said(w.hiddenRepo, " uninstalled the App from "+w.hiddenRepo+"."))
}

func said(part, text string) string {
	if part == "" {
		return ""
	}
	return text
}

// campaign creates, between the snapshots, a closed review of the deploy
// keys in which one reviewer decided to decommission the key that will be
// removed, one in the repository to be renamed and one in the repository
// the App will stop seeing.
func (w demoWeek) campaign(ctx context.Context, a *app, o *githubtest.Org) error {
	st, err := a.open(ctx, audit.OpenOptions{Create: true})
	if err != nil {
		return err
	}
	defer st.Close()
	const lead, reviewer, name = "lead@northwind.test", "rita@northwind.test", "demo-deploy-keys"
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return err
	}
	var first int64
	for _, s := range snaps {
		if s.Source == "github" && s.Account == o.Login && s.ID > first {
			first = s.ID
		}
	}
	if _, err := campaigns.Create(ctx, st, lead, campaigns.Spec{
		Name: name, Scope: "kind:deploy_key", SnapshotID: first,
		Due: time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02"), Reviewers: []string{reviewer},
	}); err != nil {
		return fmt.Errorf("demo campaign: %w", err)
	}
	decided := 0
	for _, repo := range []string{w.removedRepo, w.renamedRepo, w.hiddenRepo} {
		r := o.Repo(repo)
		if r == nil || len(r.DeployKeys) == 0 {
			continue
		}
		id := audit.IdentityID("github", o.Login, audit.KindGitHubDeployKey, repo+"/"+strconv.FormatInt(r.DeployKeys[0].ID, 10))
		if _, err := campaigns.Decide(ctx, st, reviewer, name, id, campaigns.Decommission, "no longer needed (nhi demo)"); err != nil {
			return fmt.Errorf("demo campaign: %w", err)
		}
		decided++
	}
	if _, err := campaigns.Close(ctx, st, lead, name); err != nil {
		return fmt.Errorf("demo campaign: %w", err)
	}
	fmt.Fprintf(a.stdout, "Campaign %s: %s decided to decommission %d deploy keys, and %s closed it.\n", name, reviewer, decided, lead)
	return nil
}

// freshDemo reports whether the evidence file has no snapshot of the
// sample organisation yet: only then does the demo take its week (a
// second demo on the same file is a plain second snapshot).
func (a *app) freshDemo(ctx context.Context) (bool, error) {
	st, err := a.open(ctx, audit.OpenOptions{Create: true})
	if err != nil {
		return false, err
	}
	defer st.Close()
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return false, err
	}
	for _, s := range snaps {
		if s.Source == "github" && s.Account == githubtest.SampleLogin {
			return false, nil
		}
	}
	return true, nil
}
