package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
)

func newPeopleSyncCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Add or update people from a source's members",
	}
	var (
		org                 string
		auth                githubAuth
		dryRun, markLeavers bool
		acceptUncounted     bool
	)
	gh := &cobra.Command{
		Use:   "github --org ORG",
		Short: "Add or update people from a GitHub organisation's members",
		Long: `Reads the organisation's members (GET /orgs/{org}/members) and, through
GitHub's GraphQL API, what GitHub shows of each: their public name and e-mail,
their e-mails on the organisation's verified domains, and, on GitHub Enterprise
Cloud with SAML single sign-on, the SAML identity linked to their login (NameID
and e-mails). Each member becomes one person, or
is added to the person the directory already knows under any of those names:
logins and SAML identities become aliases of one person. A new person's key is
the first e-mail GitHub shows (SAML first); a member GitHub shows no e-mail for
is listed, not added (add them with nhi people import).

Nothing is ever deleted. People an earlier sync of this organisation recorded
who are no longer members are listed; --mark-leavers marks them left (today).
What could not be read (SAML without Enterprise Cloud, a refused GraphQL
query) is said once, and the members are synced all the same; when the member
list itself is refused, or holds fewer members than GitHub's GraphQL API counts
(organization.membersWithRole totalCount) or lacks one it shows, nobody is
said to have left. When GraphQL gives no count (the query refused), the list
could not be checked, and a line "Not checked:" says so: people it does not
list are named, not said to have left nor marked left, unless
--accept-uncounted takes the list as whole. Each change is one
person.set event (source "github ORG"); --dry-run writes nothing.

The token and --api-url work as for nhi snapshot github (GITHUB_TOKEN, GH_TOKEN,
gh auth token, or a GitHub App). Reading SAML identities and verified-domain
e-mails needs an organization owner's token (classic scope read:org).`,
		Example: `  nhi people sync github --org acme --dry-run
  nhi people sync github --org acme
  nhi people sync github --org acme --mark-leavers`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(format string, args ...any) error {
				return usageError{cmd.CommandPath(), fmt.Errorf(format, args...)}
			}
			if org == "" {
				return usage("--org is required")
			}
			if err := auth.check(); err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			opts, err := auth.options(cmd.Context())
			if err != nil {
				return err
			}
			// Who acts is checked before GitHub is asked anything.
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{ReadOnly: dryRun, Create: !dryRun})
			if err != nil {
				return err
			}
			defer st.Close()
			conn, err := ghconn.NewConnector(org, opts)
			if err != nil {
				return err
			}
			read, err := conn.ReadPeople(cmd.Context())
			if err != nil {
				return err
			}
			// A list nobody could count is taken as whole only when the
			// user says so: a list cut short would look whole, and mark
			// members left (docs/people.md).
			fl := syncFlags{dryRun, markLeavers, acceptUncounted, read.Uncounted == "" || acceptUncounted}
			in := audit.MemberSync{
				Source: "github " + read.Org, Complete: read.Complete,
				MarkLeavers: markLeavers && fl.listTaken,
				Today:       time.Now().UTC().Format(time.DateOnly),
			}
			linked := 0
			for _, m := range read.Members {
				in.Members = append(in.Members, toMember(m))
				if m.SAMLNameID != "" {
					linked++
				}
			}
			res, err := st.SyncMembers(cmd.Context(), actor, in, dryRun)
			if err != nil {
				return fmt.Errorf("github %s: %w", read.Org, err)
			}
			printSync(a, read, res, linked, actor, fl)
			return nil
		},
	}
	f := gh.Flags()
	f.StringVar(&org, "org", "", "organisation login (required)")
	auth.addFlags(f)
	f.BoolVar(&dryRun, "dry-run", false, "read GitHub and print what would change; write nothing")
	f.BoolVar(&markLeavers, "mark-leavers", false, "mark people an earlier sync recorded who are no longer members as left (today)")
	f.BoolVar(&acceptUncounted, "accept-uncounted", false, "take a member list GitHub's GraphQL API could not count as whole: people it does not list are no longer members (and --mark-leavers marks them left)")
	cmd.AddCommand(gh)
	return cmd
}

// toMember is a GitHub member as the directory takes them: e-mails most
// trusted first (a SAML NameID that is an e-mail, the SAML e-mails, those
// on verified domains, the public one).
func toMember(m ghconn.OrgMember) audit.Member {
	out := audit.Member{Login: m.Login, Name: m.Name}
	var names []string
	if m.SAMLNameID != "" {
		names = append(names, m.SAMLNameID)
	}
	names = append(names, m.SAMLEmails...)
	names = append(names, m.VerifiedEmails...)
	if m.Email != "" {
		names = append(names, m.Email)
	}
	seen := map[string]bool{}
	for _, n := range names {
		k := audit.AliasKey(n)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		if strings.Contains(n, "@") {
			out.Emails = append(out.Emails, n)
		} else {
			out.Aliases = append(out.Aliases, n)
		}
	}
	return out
}

// syncFlags are the flags printSync words its lines by, and listTaken:
// the member list is taken as whole (GraphQL counted it, or
// --accept-uncounted), so those it lacks have left.
type syncFlags struct{ dryRun, markLeavers, acceptUncounted, listTaken bool }

func printSync(a *app, read *ghconn.OrgPeople, res *audit.SyncResult, linked int, actor string, fl syncFlags) {
	w := a.stdout
	dryRun, markLeavers := fl.dryRun, fl.markLeavers
	for _, p := range res.Added {
		fmt.Fprintf(w, "+ %s (github %s)\n", audit.Printable(p.Display()), orDash(p.GitHub))
	}
	for _, p := range res.Updated {
		fmt.Fprintf(w, "~ %s (github %s)\n", audit.Printable(p.Display()), orDash(p.GitHub))
	}
	verb := "Added"
	if dryRun {
		verb = "Would add"
	}
	fmt.Fprintf(w, "%s %d, updated %d, unchanged %d people from %s of %s", verb, len(res.Added), len(res.Updated), res.Unchanged, counted(len(read.Members), "member", "members"), read.Org)
	switch {
	case dryRun:
		fmt.Fprintln(w, " (dry run: nothing written)")
	case len(res.Events) > 0:
		fmt.Fprintf(w, " (%s, by %s)\n", eventSpan(res.Events[0].Seq, res.Events[len(res.Events)-1].Seq), audit.Printable(actor))
	default:
		fmt.Fprintln(w, " (nothing to write)")
	}
	if read.SAML == "read" {
		fmt.Fprintf(w, "SAML identities: %d of %s linked\n", linked, counted(len(read.Members), "member", "members"))
	}
	for _, u := range read.Unread {
		fmt.Fprintf(w, "Not read: %s\n", audit.Printable(u))
	}
	if read.Uncounted != "" {
		taken := "nobody it does not list is said to have left; give a token GitHub's GraphQL API answers, or pass --accept-uncounted to take the list as whole"
		if fl.acceptUncounted {
			taken = "taken as whole, as --accept-uncounted asks"
		}
		fmt.Fprintf(w, "Not checked: whether the member list (GET /orgs/%s/members) is whole: GitHub sends it without a count, and %s, so a list cut short would look whole; %s\n",
			read.Org, audit.Printable(read.Uncounted), taken)
	}
	if n := len(res.NoEmail); n > 0 {
		fmt.Fprintf(w, "%d %s not added, GitHub shows no e-mail for them: %s; add them with nhi people import (a row with email and github)\n",
			n, plural(n, "member", "members"), audit.Printable(strings.Join(res.NoEmail, ", ")))
	}
	for _, c := range res.Conflicts {
		fmt.Fprintf(w, "Not synced: %s\n", c)
	}
	if n := len(res.Gone); n > 0 {
		var names []string
		for _, p := range res.Gone {
			names = append(names, p.GitHub+" ("+p.Email+")")
		}
		if !fl.listTaken {
			// Not in a list nobody could count: named, never said to have left.
			what := "not said to have left: check whether they have, then pass --accept-uncounted with --mark-leavers to mark them left"
			if markLeavers {
				what = "not marked left, the list being uncounted: check whether they have left, then run again with --accept-uncounted"
			}
			fmt.Fprintf(w, "%d %s not in the member list of %s, which nobody could count: %s; %s\n", n, plural(n, "person", "people"), read.Org,
				audit.Printable(strings.Join(names, ", ")), what)
		} else {
			what := "mark them leavers with --mark-leavers"
			switch {
			case markLeavers && dryRun:
				what = "they would be marked left"
			case markLeavers:
				what = "marked left"
			}
			fmt.Fprintf(w, "%d %s no longer %s of %s: %s; %s\n", n, plural(n, "person", "people"), plural(n, "a member", "members"), read.Org,
				audit.Printable(strings.Join(names, ", ")), what)
		}
	}
	if !read.Complete {
		fmt.Fprintf(w, "The member list was not read in full, so nobody is said to have left %s\n", read.Org)
	}
	for _, p := range res.LeftMembers {
		fmt.Fprintf(w, "Still a member: %s (github %s) %s according to the directory; remove them from %s\n",
			audit.Printable(p.Display()), orDash(p.GitHub), p.LeftNote(), read.Org)
	}
}
