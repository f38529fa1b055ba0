package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
)

// Blast radius, read where GitHub gives it: which repositories an
// organisation secret with visibility "selected", a fine-grained PAT on
// some repositories and a runner group reach ("repositories", a
// comma-separated list of names), and which Apps and deploy keys may
// bypass the organisation's rulesets ("bypasses_rulesets"). An answer
// that cannot be had is a gap of the identity's kind: the identity is
// recorded, its reach is not claimed.

const (
	needOrgAgents    = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Agent secrets: read\")"
	needAgents       = "needs admin access to the repository (classic token scope repo; GitHub App repository permission \"Agent secrets: read\")"
	needRegistries   = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Organization private registries: read\")"
	needRepoRulesets = "needs read access to the repository (classic token scope repo; GitHub App repository permission \"Metadata: read\"); without it, which deploy keys bypass the repository's own rulesets is not known"
	needRulesets     = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Administration: write\", which GitHub asks even to read rulesets); without it, which Apps and deploy keys bypass the organization's rulesets is not known"
	needRunnerGroups = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Self-hosted runners: read\"); without it, which repositories the organization's runners serve is not known"
	reachUnknownHint = "; the identity is recorded, but which repositories it reaches is not known"
)

// repoNames collects the repository names of one page: a bare array
// (fine-grained PAT repositories) or {"total_count", "repositories"}.
func repoNames(wrapped bool) parser {
	return func(body []byte, pd *pageData) (int, error) {
		var page []*github.Repository
		if wrapped {
			var w github.SelectedReposList // the same shape as ListRepositories
			if err := unmarshal(body, &w); err != nil {
				return 0, err
			}
			page = w.Repositories
		} else if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, r := range page {
			pd.Names = append(pd.Names, r.GetName())
		}
		return len(page), nil
	}
}

// reach reads ep's repository list and records it on o; a refusal is a
// gap of o's kind and leaves o without "repositories".
func (c *Connector) reach(ctx context.Context, u *unit, o *audit.Observation, ep endpoint, wrapped bool) error {
	ep.kind = o.Kind
	names, ok, err := u.list(ctx, ep, repoNames(wrapped))
	if err != nil || !ok {
		return err
	}
	c.setRepositories(o, names)
	return nil
}

// setRepositories records on o the repositories it reaches, and
// remembers them as named by this run (see unseenNamed).
func (c *Connector) setRepositories(o *audit.Observation, names []string) {
	c.mentionedMu.Lock()
	if c.mentioned == nil {
		c.mentioned = map[string]bool{}
	}
	for _, n := range names {
		c.mentioned[strings.ToLower(n)] = true
	}
	c.mentionedMu.Unlock()
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	attrs := make(map[string]string, len(o.Attributes)+2)
	for k, v := range o.Attributes {
		attrs[k] = v
	}
	attrs["repositories"] = strings.Join(names, ",")
	attrs["repository_count"] = strconv.Itoa(len(names))
	o.Attributes = attrs
}

// secretReach reads, for each organisation secret of family fam ("actions",
// "dependabot", "codespaces", "agents") the unit listed with visibility
// "selected", the repositories it is shared with.
func (c *Connector) secretReach(ctx context.Context, u *unit, fam, need string) error {
	for i := range u.obs {
		o := &u.obs[i]
		if o.Attributes["visibility"] != "selected" {
			continue
		}
		ep := c.orgEP(fam+"/secrets/"+pathEscape(o.Name)+"/repositories", o.Kind, need+reachUnknownHint)
		ep.path = "/orgs/" + c.org + "/" + fam + "/secrets/" + o.Name + "/repositories"
		if err := c.reach(ctx, u, o, ep, true); err != nil {
			return err
		}
	}
	return nil
}

// patReach reads the repositories of each fine-grained PAT grant (rest
// "personal-access-tokens") or request ("personal-access-token-requests")
// limited to some of them (repository_selection "subset").
func (c *Connector) patReach(ctx context.Context, u *unit, rest, need string) error {
	for i := range u.obs {
		o := &u.obs[i]
		if o.Attributes["repository_selection"] != "subset" {
			continue
		}
		id := strings.TrimPrefix(o.ID, c.id(o.Kind, ""))
		ep := c.orgEP(rest+"/"+id+"/repositories", o.Kind, need+reachUnknownHint)
		if err := c.reach(ctx, u, o, ep, false); err != nil {
			return err
		}
	}
	return nil
}

// runnerGroup is what the runner-groups list says of one group.
type runnerGroup struct {
	name, visibility string
	repos            []string // when visibility is "selected" and they were read
	reposRead        bool
}

// runnerGroups lists the organisation's runner groups and the repositories
// of those visible to selected repositories. ok is false when the list was
// refused (a gap): runners are then recorded without their reach.
func (c *Connector) runnerGroups(ctx context.Context, u *unit) (map[string]*runnerGroup, bool, error) {
	ep := c.orgEP("actions/runner-groups", audit.KindGitHubRunner, needRunnerGroups)
	names, ok, err := u.list(ctx, ep, func(body []byte, pd *pageData) (int, error) {
		var page github.RunnerGroups
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, g := range page.RunnerGroups {
			// ID, name, visibility: Names holds triples.
			pd.Names = append(pd.Names, strconv.FormatInt(g.GetID(), 10), g.GetName(), g.GetVisibility())
		}
		return len(page.RunnerGroups), nil
	})
	if err != nil || !ok {
		return nil, ok, err
	}
	groups := map[string]*runnerGroup{}
	for i := 0; i+2 < len(names); i += 3 {
		g := &runnerGroup{name: names[i+1], visibility: names[i+2]}
		groups[names[i]] = g
		if g.visibility != "selected" {
			continue
		}
		rep := c.orgEP("actions/runner-groups/"+names[i]+"/repositories", audit.KindGitHubRunner, needRunnerGroups)
		repos, ok, err := u.list(ctx, rep, repoNames(true))
		if err != nil {
			return nil, false, err
		}
		g.repos, g.reposRead = repos, ok
	}
	return groups, true, nil
}

// groupRunners gives each organisation runner its group and the
// repositories whose jobs it may run.
func (c *Connector) groupRunners(u *unit, groups map[string]*runnerGroup) {
	for i := range u.obs {
		o := &u.obs[i]
		g := groups[o.Attributes["runner_group_id"]]
		if o.Kind != audit.KindGitHubRunner || g == nil {
			continue
		}
		attrs := make(map[string]string, len(o.Attributes)+4)
		for k, v := range o.Attributes {
			attrs[k] = v
		}
		attrs["runner_group"], attrs["runner_group_visibility"] = g.name, g.visibility
		o.Attributes = attrs
		if g.reposRead {
			c.setRepositories(o, g.repos)
		}
	}
}

// ---- rulesets -----------------------------------------------------------

// ruleset is what the connector keeps of an organisation ruleset.
type ruleset struct {
	Name        string   `json:"name"`
	Enforcement string   `json:"enforcement"`
	Apps        []string `json:"apps,omitempty"` // App IDs that may bypass it
	DeployKeys  bool     `json:"deploy_keys,omitempty"`
	Include     []string `json:"include,omitempty"` // repository_name patterns
	Exclude     []string `json:"exclude,omitempty"`
	RepoIDs     []string `json:"repo_ids,omitempty"`
	// Targeted is false when it targets repositories by another condition
	// (custom properties) that the connector does not evaluate.
	Targeted bool `json:"targeted"`
}

// rulesetJSON is GitHub's repository-ruleset as go-github v60 reads it,
// but for its rules, which are not kept: v60 refuses rule types newer
// than it, and a new rule type must not hide who bypasses the ruleset.
type rulesetJSON struct {
	github.Ruleset
	Rules json.RawMessage `json:"rules"`
}

// readRulesets reads the organisation's rulesets and who may bypass each
// (the list does not say; each is read once). Like the repository list it
// is read on every run, resumed or not, because installations and deploy
// keys are marked from it; a refusal is recorded by the org:rulesets unit.
func (c *Connector) readRulesets(ctx context.Context, rec checkpointer) error {
	u := c.newUnit("org:rulesets")
	ep := c.orgEP("rulesets", "", needRulesets)
	names, ok, err := u.list(ctx, ep, parseRulesetIDs)
	if err != nil {
		return err
	}
	var sets []ruleset
	if ok {
		sets, err = c.rulesetDetails(ctx, u, names, func(id string) endpoint { return c.orgEP("rulesets/"+id, "", needRulesets) })
		if err != nil {
			return err
		}
	}
	c.rulesets = sets
	if rec.Checkpointed(u.name) {
		u.gaps = nil // recorded by the run this one resumes
	}
	return u.finish(ctx)
}

// rulesetDetails reads each ruleset of ids from the endpoint detail
// names (a list does not say who may bypass); one that cannot be read is
// a gap of u and is left out.
func (c *Connector) rulesetDetails(ctx context.Context, u *unit, ids []string, detail func(id string) endpoint) ([]ruleset, error) {
	var sets []ruleset
	for _, id := range ids {
		one := detail(id)
		one.url = strings.TrimSuffix(one.url, fmt.Sprintf("?per_page=%d", perPage))
		pd, resp, err := c.fetchPage(ctx, u.cache, one, one.url, parseRuleset)
		var bad *unreadable
		if errors.As(err, &bad) {
			u.unreadable(one, 0, bad)
			continue
		}
		if err != nil {
			return nil, err
		}
		if resp.status != http.StatusOK && resp.status != http.StatusNotModified {
			if err := u.failed(one, 0, resp); err != nil {
				return nil, err
			}
			continue
		}
		sets = append(sets, pd.Rulesets...)
	}
	return sets, nil
}

// parseRulesetIDs collects the IDs of a page of rulesets.
func parseRulesetIDs(body []byte, pd *pageData) (int, error) {
	var page []*rulesetJSON
	if err := unmarshal(body, &page); err != nil {
		return 0, err
	}
	for _, r := range page {
		pd.Names = append(pd.Names, strconv.FormatInt(r.GetID(), 10))
	}
	return len(page), nil
}

// repoRulesets reads the rulesets defined in repository r itself
// (includes_parents=false: the organisation's, which GitHub would list
// here too, are read once by readRulesets) and who may bypass each. They
// apply to r whatever their branch conditions, so each targets r.
func (c *Connector) repoRulesets(ctx context.Context, u *unit, r repoInfo) ([]ruleset, error) {
	ep := c.repoEP(r.Name, "rulesets", "rulesets", "", needRepoRulesets, "includes_parents=false")
	ids, ok, err := u.list(ctx, ep, parseRulesetIDs)
	if err != nil || !ok {
		return nil, err
	}
	sets, err := c.rulesetDetails(ctx, u, ids, func(id string) endpoint {
		return c.repoEP(r.Name, "rulesets/"+id, "rulesets/"+id, "", needRepoRulesets)
	})
	return ownRulesets(r, sets), err
}

// ownRulesets marks sets as repository r's own: each targets r, and its
// name says whose it is.
func ownRulesets(r repoInfo, sets []ruleset) []ruleset {
	for i := range sets {
		sets[i].Targeted, sets[i].Include, sets[i].Exclude, sets[i].RepoIDs = true, []string{"~ALL"}, nil, nil
		sets[i].Name += " (" + r.Name + "'s own ruleset)"
	}
	return sets
}

// checkpointer is the part of connectors.Recorder readRulesets asks.
type checkpointer interface{ Checkpointed(string) bool }

func parseRuleset(body []byte, pd *pageData) (int, error) {
	var r rulesetJSON
	if err := unmarshal(body, &r); err != nil {
		return 0, err
	}
	rs := ruleset{Name: r.Name, Enforcement: r.Enforcement, Targeted: true}
	for _, a := range r.BypassActors {
		switch a.GetActorType() {
		case "Integration":
			if a.ActorID != nil {
				rs.Apps = append(rs.Apps, strconv.FormatInt(a.GetActorID(), 10))
			}
		case "DeployKey":
			rs.DeployKeys = true
		}
	}
	switch cond := r.Conditions; {
	case cond != nil && cond.RepositoryName != nil:
		rs.Include, rs.Exclude = cond.RepositoryName.Include, cond.RepositoryName.Exclude
	case cond != nil && cond.RepositoryID != nil:
		for _, id := range cond.RepositoryID.RepositoryIDs {
			rs.RepoIDs = append(rs.RepoIDs, strconv.FormatInt(id, 10))
		}
	default:
		rs.Targeted = false
	}
	pd.Rulesets = append(pd.Rulesets, rs)
	return 1, nil
}

// targets reports whether the ruleset applies to repository r: known is
// false when it targets by a condition not evaluated here.
func (rs *ruleset) targets(r repoInfo) (applies, known bool) {
	if !rs.Targeted {
		return true, false
	}
	if len(rs.RepoIDs) > 0 {
		return slices.Contains(rs.RepoIDs, r.ID), true
	}
	match := func(pats []string) bool {
		for _, p := range pats {
			if p == "~ALL" {
				return true
			}
			if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(r.Name)); ok {
				return true
			}
		}
		return false
	}
	return match(rs.Include) && !match(rs.Exclude), true
}

// bypassing names the active rulesets an App (by App ID) may bypass.
func (c *Connector) appBypasses(appID string) []string {
	var out []string
	for _, rs := range c.rulesets {
		if rs.Enforcement != "disabled" && slices.Contains(rs.Apps, appID) {
			out = append(out, rs.Name)
		}
	}
	return out
}

// markBypasses adds bypasses_rulesets to the installations and deploy
// keys of u: the organisation's rulesets, and for a repository's deploy
// keys also its own (see repoRulesets).
func (c *Connector) markBypasses(u *unit, r *repoInfo, own []ruleset) {
	for i := range u.obs {
		o := &u.obs[i]
		var names []string
		switch {
		case o.Kind == audit.KindGitHubAppInstallation:
			names = c.appBypasses(o.Attributes["app_id"])
		case o.Kind == audit.KindGitHubDeployKey && r != nil:
			for _, rs := range slices.Concat(c.rulesets, own) {
				if !rs.DeployKeys || rs.Enforcement == "disabled" {
					continue
				}
				switch applies, known := rs.targets(*r); {
				case applies && known:
					names = append(names, rs.Name)
				case applies:
					names = append(names, rs.Name+" (if it targets this repository: it selects repositories by property)")
				}
			}
		}
		if len(names) == 0 {
			continue
		}
		attrs := make(map[string]string, len(o.Attributes)+1)
		for k, v := range o.Attributes {
			attrs[k] = v
		}
		attrs["bypasses_rulesets"] = strings.Join(names, ", ")
		o.Attributes = attrs
	}
}

// ---- private registries --------------------------------------------------

// privateRegistry is an org-private-registry-configuration (not in
// go-github v60). GitHub never returns the secret it holds.
type privateRegistry struct {
	Name         string            `json:"name"`
	RegistryType string            `json:"registry_type"`
	AuthType     string            `json:"auth_type"`
	URL          string            `json:"url"`
	Username     *string           `json:"username"`
	Visibility   string            `json:"visibility"`
	CreatedAt    *github.Timestamp `json:"created_at"`
	UpdatedAt    *github.Timestamp `json:"updated_at"`
}

func (c *Connector) parsePrivateRegistries(body []byte, pd *pageData) (int, error) {
	var page struct {
		Configurations []*privateRegistry `json:"configurations"`
	}
	if err := unmarshal(body, &page); err != nil {
		return 0, err
	}
	for _, r := range page.Configurations {
		attrs := map[string]string{"registry_type": r.RegistryType, "visibility": r.Visibility}
		if r.AuthType != "" {
			attrs["auth_type"] = r.AuthType
		}
		if r.URL != "" {
			u, _, redacted := redactURL(r.URL)
			attrs["url"] = u
			if redacted {
				attrs["url_redacted"] = "true"
			}
		}
		if r.Username != nil && *r.Username != "" {
			attrs["username"] = *r.Username
		}
		pd.Obs = append(pd.Obs, audit.Observation{
			ID:         c.id(audit.KindGitHubPrivateRegistry, r.Name),
			Kind:       audit.KindGitHubPrivateRegistry,
			Name:       r.Name,
			Scope:      c.org,
			CreatedAt:  timePtr(r.CreatedAt),
			RotatedAt:  timePtr(r.UpdatedAt), // updated_at: when the credential was last set
			Attributes: attrs,
		})
	}
	return len(page.Configurations), nil
}

// unseenNamed is, of the repositories other answers of this run named (an
// org secret's, a token's, a runner group's), those the repository list
// did not hold: repositories of the organisation this credential cannot
// read, by name. GitHub gives no other way to name them.
func (c *Connector) unseenNamed(listed []repoInfo) []string {
	seen := make(map[string]bool, len(listed))
	for _, r := range listed {
		seen[strings.ToLower(r.Name)] = true
	}
	c.mentionedMu.Lock()
	defer c.mentionedMu.Unlock()
	var out []string
	for n := range c.mentioned {
		if !seen[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// namedUnseen says which of missing repositories not read can be named
// (missing < 0: how many is not known).
func namedUnseen(named []string, missing int) string {
	const most = 20
	list := strings.Join(named[:min(len(named), most)], ", ")
	if len(named) > most {
		list += fmt.Sprintf(" and %d more", len(named)-most)
	}
	switch {
	case len(named) == 0 && missing > 0:
		return "; no answer this credential may read names them, so which they are is not knowable with it"
	case len(named) == 0:
		return "; no answer this credential may read names any, so which they are is not knowable with it"
	case missing > len(named):
		return fmt.Sprintf("; other answers name %d of them: %s (the other %d cannot be named with this credential)", len(named), list, missing-len(named))
	case missing >= 0:
		return "; they are: " + list
	}
	return "; other answers name some of them: " + list + " (any others cannot be named with this credential)"
}

// ---- Actions OIDC subject claims ----------------------------------------

const (
	needOrgOIDC = "needs an organization member's token (classic token scope read:org; GitHub App organization permission \"Administration: read\")"
	needOIDC    = "needs read access to the repository's Actions settings (classic token scope repo; GitHub App repository permission \"Actions: read\")"
)

// parseOIDCSub reads the sub claim customisation of the organisation's
// Actions OIDC tokens (repo "") or of one repository. The organisation's
// is one identity: the tokens every workflow may ask for, whose sub cloud
// roles trust. A repository has one of its own only when it does not use
// the organisation's template (use_default false); one read that has none
// uses it ("sub_claim" says which claims the sub is made of).
func (c *Connector) parseOIDCSub(scope, repo string) parser {
	return func(body []byte, pd *pageData) (int, error) {
		var t github.OIDCSubjectClaimCustomTemplate
		if err := unmarshal(body, &t); err != nil {
			return 0, err
		}
		if repo != "" && (t.UseDefault == nil || *t.UseDefault) {
			return 1, nil
		}
		attrs := map[string]string{"sub_claim": "default (repo:ORG/REPO then the job's context)"}
		if len(t.IncludeClaimKeys) > 0 {
			attrs["sub_claim"] = strings.Join(t.IncludeClaimKeys, ",")
			attrs["sub_claim_customized"] = "true"
		} else {
			attrs["sub_claim_customized"] = "false"
		}
		key, name := c.org, "Actions OIDC tokens of "+c.org
		if repo != "" {
			key, name = c.org+"/"+repo, "Actions OIDC tokens of "+c.org+"/"+repo
			attrs["use_default"] = "false"
		}
		pd.Obs = append(pd.Obs, audit.Observation{
			ID:         c.id(audit.KindGitHubActionsOIDC, key),
			Kind:       audit.KindGitHubActionsOIDC,
			Name:       name,
			Scope:      scope,
			Attributes: attrs,
		})
		return 1, nil
	}
}
