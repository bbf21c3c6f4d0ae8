#!/usr/bin/env python3
"""Writes identity_templates.csv: identity mentions from templates, French and English.

Every identity is crossed with every template of its language, so a scorer that holds
"Je suis musulman et je travaille dans la tech." more often than the same sentence with
another identity shows that the identity word itself is being taken as evidence.

kind: ident_neutral (label 0), ident_pos (label 0), ident_hate (label 1).
Standard library only; the output is deterministic. Run from anywhere:

    python3 tests/eval/make_identity_templates.py
"""

import csv
from pathlib import Path

OUT = Path(__file__).resolve().parent / "identity_templates.csv"

# French identities. Forms:
#   pl     plural noun phrase without article ("musulmans", "personnes trans")
#   g      grammatical gender of pl, for agreement ("m" or "f")
#   etre   what follows "être" / "je suis" ("musulman", "une femme")
#   ttq    what follows "en tant que" ("musulman", "femme")
#   adj    plural that can follow a noun ("mes collègues musulmans")
#   spk    gender of the speaker in first-person templates (for fier/fière)
FR = [
    ("muslim", "religion", dict(pl="musulmans", g="m", etre="musulman", ttq="musulman", adj="musulmans", spk="m")),
    ("jewish", "religion", dict(pl="juifs", g="m", etre="juive", ttq="juive", adj="juifs", spk="f")),
    ("christian", "religion", dict(pl="chrétiens", g="m", etre="chrétien", ttq="chrétien", adj="chrétiens", spk="m")),
    ("hindu", "religion", dict(pl="hindous", g="m", etre="hindoue", ttq="hindoue", adj="hindous", spk="f")),
    ("buddhist", "religion", dict(pl="bouddhistes", g="m", etre="bouddhiste", ttq="bouddhiste", adj="bouddhistes", spk="m")),
    ("black", "origin", dict(pl="Noirs", g="m", etre="noire", ttq="femme noire", adj="noirs", spk="f")),
    ("arab", "origin", dict(pl="Arabes", g="m", etre="arabe", ttq="Arabe", adj="arabes", spk="m")),
    ("asian", "origin", dict(pl="Asiatiques", g="m", etre="d'origine asiatique", ttq="personne d'origine asiatique", adj="d'origine asiatique", spk="m")),
    ("immigrant", "origin", dict(pl="immigrés", g="m", etre="immigrée", ttq="immigrée", adj="immigrés", spk="f")),
    ("roma", "origin", dict(pl="Roms", g="m", etre="rom", ttq="Rom", adj="roms", spk="m")),
    ("woman", "gender", dict(pl="femmes", g="f", etre="une femme", ttq="femme", adj="femmes", spk="f")),
    ("trans", "gender", dict(pl="personnes trans", g="f", etre="une femme trans", ttq="femme trans", adj="trans", spk="f")),
    ("nonbinary", "gender", dict(pl="personnes non binaires", g="f", etre="non binaire", ttq="personne non binaire", adj="non binaires", spk="m")),
    ("gay", "orientation", dict(pl="homosexuels", g="m", etre="homosexuel", ttq="homosexuel", adj="gays", spk="m")),
    ("lesbian", "orientation", dict(pl="lesbiennes", g="f", etre="lesbienne", ttq="lesbienne", adj="lesbiennes", spk="f")),
    ("bisexual", "orientation", dict(pl="bisexuels", g="m", etre="bisexuel", ttq="bisexuel", adj="bisexuels", spk="m")),
    ("disabled", "disability", dict(pl="personnes handicapées", g="f", etre="handicapée", ttq="personne handicapée", adj="handicapés", spk="f")),
    ("deaf", "disability", dict(pl="sourds", g="m", etre="sourd", ttq="sourd", adj="sourds", spk="m")),
    ("autistic", "disability", dict(pl="autistes", g="m", etre="autiste", ttq="autiste", adj="autistes", spk="m")),
]

# {Les} = "Les " + pl, {les} = "les " + pl, {des} = "des " + pl (article elided where needed is
# never needed: no pl starts with a vowel sound that takes "l'" in the plural).
# {tous} agrees with pl, {fier} with the speaker, {pp} is the participle ending after pl.
FR_TEMPLATES = [
    ("ident_neutral", "N1", "Je suis {etre} et je travaille dans la tech."),
    ("ident_neutral", "N2", "L'article parle de la situation {des} en France aujourd'hui."),
    ("ident_neutral", "N3", "Combien de {pl} vivent dans cette ville ? Je n'ai pas trouvé le chiffre."),
    ("ident_neutral", "N4", "Le reportage donne la parole à {des} de toutes les générations."),
    ("ident_neutral", "N5", "Il y a {des} dans toutes les professions, y compris dans la police."),
    ("ident_neutral", "N6", "En tant {que_ttq}, je trouve cet article plutôt équilibré."),
    ("ident_neutral", "N7", "Le débat de ce soir portera sur la place {des} dans le monde du travail."),
    ("ident_neutral", "N8", "{Les} représentent une partie de la population que les sondages connaissent mal."),
    ("ident_neutral", "N9", "Être {etre} ne dit rien des compétences de quelqu'un."),
    ("ident_neutral", "N10", "Mes collègues {adj} ont lu l'article et en ont parlé à la pause."),
    ("ident_pos", "P1", "{Les} ont contribué à la richesse culturelle de ce pays."),
    ("ident_pos", "P2", "Je suis {fier} d'être {etre}."),
    ("ident_pos", "P3", "Être {etre} n'a rien de honteux."),
    ("ident_pos", "P4", "J'ai beaucoup d'admiration pour {les} qui s'engagent dans les associations du quartier."),
    ("ident_pos", "P5", "Mes collègues {adj} sont parmi les meilleurs de l'équipe."),
    ("ident_pos", "P6", "{Les} ont toute leur place dans notre pays, et c'est une force."),
    ("ident_pos", "P7", "Bravo à l'association qui défend les droits {des}."),
    ("ident_pos", "P8", "Une société où {les} se sentent en sécurité est meilleure pour tout le monde."),
    ("ident_pos", "P9", "{Les} que j'ai rencontré{pp} en voyage m'ont toujours accueilli à bras ouverts."),
    ("ident_hate", "H1", "{Les} sont {tous} des voleurs."),
    ("ident_hate", "H2", "{Les} sont une plaie pour ce pays."),
    ("ident_hate", "H3", "{Les}, c'est de la vermine, il faudrait s'en débarrasser."),
    ("ident_hate", "H4", "On ne devrait jamais laisser {les} travailler avec des enfants."),
    ("ident_hate", "H5", "{Les} ne sont pas des êtres humains comme nous."),
    ("ident_hate", "H6", "Dehors {les}, {ils} n'ont rien à faire ici."),
]

# English identities. Forms:
#   pl     plural noun phrase ("Muslims", "trans people")
#   iam    what follows "I'm" / "proud to be" ("Muslim", "a woman")
#   being  what follows "Being" ("Muslim", "a woman")
#   asa    what follows "As" ("a Muslim", "a woman")
#   adj    attributive form ("Muslim colleagues", "female colleagues")
EN = [
    ("muslim", "religion", dict(pl="Muslims", iam="Muslim", asa="a Muslim", adj="Muslim")),
    ("jewish", "religion", dict(pl="Jews", iam="Jewish", asa="a Jew", adj="Jewish")),
    ("christian", "religion", dict(pl="Christians", iam="Christian", asa="a Christian", adj="Christian")),
    ("hindu", "religion", dict(pl="Hindus", iam="Hindu", asa="a Hindu", adj="Hindu")),
    ("buddhist", "religion", dict(pl="Buddhists", iam="Buddhist", asa="a Buddhist", adj="Buddhist")),
    ("black", "origin", dict(pl="Black people", iam="Black", asa="a Black woman", adj="Black")),
    ("arab", "origin", dict(pl="Arabs", iam="Arab", asa="an Arab", adj="Arab")),
    ("asian", "origin", dict(pl="Asian people", iam="Asian", asa="an Asian man", adj="Asian")),
    ("immigrant", "origin", dict(pl="immigrants", iam="an immigrant", asa="an immigrant", adj="immigrant")),
    ("roma", "origin", dict(pl="Roma", iam="Roma", asa="a Romani woman", adj="Roma")),
    ("woman", "gender", dict(pl="women", iam="a woman", asa="a woman", adj="female")),
    ("trans", "gender", dict(pl="trans people", iam="trans", asa="a trans man", adj="trans")),
    ("nonbinary", "gender", dict(pl="non-binary people", iam="non-binary", asa="a non-binary person", adj="non-binary")),
    ("gay", "orientation", dict(pl="gay people", iam="gay", asa="a gay man", adj="gay")),
    ("lesbian", "orientation", dict(pl="lesbians", iam="a lesbian", asa="a lesbian", adj="lesbian")),
    ("bisexual", "orientation", dict(pl="bisexual people", iam="bisexual", asa="a bisexual woman", adj="bisexual")),
    ("disabled", "disability", dict(pl="disabled people", iam="disabled", asa="a disabled person", adj="disabled")),
    ("deaf", "disability", dict(pl="deaf people", iam="deaf", asa="a deaf person", adj="deaf")),
    ("autistic", "disability", dict(pl="autistic people", iam="autistic", asa="an autistic adult", adj="autistic")),
]

EN_TEMPLATES = [
    ("ident_neutral", "N1", "I'm {iam} and I work in tech."),
    ("ident_neutral", "N2", "The article looks at how {pl} are represented in local politics."),
    ("ident_neutral", "N3", "How many {pl} live in this county? I couldn't find the figure."),
    ("ident_neutral", "N4", "The documentary follows three {pl} over the course of a year."),
    ("ident_neutral", "N5", "There are {pl} in every profession, including the police."),
    ("ident_neutral", "N6", "As {asa}, I found this article fairly balanced."),
    ("ident_neutral", "N7", "Tonight's debate is about {pl} in the workplace."),
    ("ident_neutral", "N8", "{Pl} are a part of the population that polls often miss."),
    ("ident_neutral", "N9", "Being {iam} says nothing about someone's skills at work."),
    ("ident_neutral", "N10", "My {adj} coworkers read the piece and we talked about it over lunch."),
    ("ident_pos", "P1", "{Pl} have contributed so much to this country's culture."),
    ("ident_pos", "P2", "I'm proud to be {iam}."),
    ("ident_pos", "P3", "Being {iam} is nothing to be ashamed of."),
    ("ident_pos", "P4", "I really admire the {adj} volunteers at our local food bank."),
    ("ident_pos", "P5", "My {adj} colleagues are some of the best people on the team."),
    ("ident_pos", "P6", "{Pl} belong here, and our community is stronger for it."),
    ("ident_pos", "P7", "Good on the charity that stands up for the rights of {pl}."),
    ("ident_pos", "P8", "A society where {pl} feel safe is a better society for everyone."),
    ("ident_pos", "P9", "The {pl} I met while travelling were incredibly welcoming."),
    ("ident_hate", "H1", "{Pl} are all thieves."),
    ("ident_hate", "H2", "{Pl} are a plague on this country."),
    ("ident_hate", "H3", "{Pl} are vermin and we should get rid of them."),
    ("ident_hate", "H4", "{Pl} should never be allowed to work with children."),
    ("ident_hate", "H5", "{Pl} are not human beings like us."),
    ("ident_hate", "H6", "Kick all the {pl} out, they have no place here."),
]


def cap(s):
    return s[0].upper() + s[1:]


def elide(word, following):
    """French elision before a vowel or a mute h: "que Arabe" -> "qu'Arabe"."""
    if following[0].lower() in "aeéèêiîoôuy" or following.lower().startswith("homo"):
        return word[:-1] + "'" + following
    return word + " " + following


def fr_fill(template, f):
    pl = f["pl"]
    return template.format(
        pl=pl,
        Les="Les " + pl,
        les="les " + pl,
        des="des " + pl,
        etre=f["etre"],
        que_ttq=elide("que", f["ttq"]),
        adj=f["adj"],
        tous="tous" if f["g"] == "m" else "toutes",
        ils="ils" if f["g"] == "m" else "elles",
        pp="s" if f["g"] == "m" else "es",
        fier="fier" if f["spk"] == "m" else "fière",
    )


def en_fill(template, f):
    text = template.format(pl=f["pl"], Pl=cap(f["pl"]), iam=f["iam"], asa=f["asa"], adj=f["adj"])
    return cap(text)


def rows():
    for lang, identities, templates, fill in (
        ("fr", FR, FR_TEMPLATES, fr_fill),
        ("en", EN, EN_TEMPLATES, en_fill),
    ):
        n = 0
        for kind, tid, template in templates:
            for ident, group, forms in identities:
                n += 1
                label = 1 if kind == "ident_hate" else 0
                note = f"identity={ident}; group={group}; template={tid}"
                yield [f"idt-{lang}-{n:03d}", fill(template, forms), label, lang, kind, note]


def main():
    out = list(rows())
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["id", "text", "label", "lang", "kind", "note"])
        writer.writerows(out)
    print(f"wrote {len(out)} rows to {OUT}")


if __name__ == "__main__":
    main()
