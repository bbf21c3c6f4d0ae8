#!/usr/bin/env python3
"""Writes training/fr_written.csv: French threats, French comment spam and their benign
look-alikes, written for Vigie's training (templates below, combined with a fixed seed).

These are TRAINING examples: they share no sentence or template with the evaluation sets in
tests/eval/ (which are never trained on). Phone numbers use the ranges the French regulator
reserves for fiction (01 99 00 xx xx, 06 39 98 xx xx); domains and handles are made up.

    python3 training/make_fr_written.py     # standard library only, deterministic
"""
import csv
import os
import random

R = random.Random(15)


def pick(xs):
    return R.choice(xs)


TARGETS = ["toi", "le troll du premier commentaire", "l'auteur de cet article", "le modérateur",
           "toi le donneur de leçons", "le journaliste qui a pondu ça", "toi qui te caches derrière ton pseudo"]
THREAT_TEMPLATES = [
    "{t}, je vais te {v}.",
    "Continue à écrire ça, {t}, et je vais te {v}.",
    "On va te {v}, {t}, compte sur nous.",
    "Je te {f}, {t}, tu peux en être sûr.",
    "Un jour je te {f}, et là tu rigoleras moins.",
    "Tu vas {p}, {t}.",
    "Tes jours sont comptés, {t}.",
    "Fais attention à {fam}, {t}.",
    "Je sais où tu {live}, {t}.",
    "On connaît ton adresse, on va passer te voir.",
    "Il serait dommage qu'il arrive quelque chose à {fam}.",
    "Ce serait triste qu'un accident arrive à {fam}, non ?",
    "Un accident est si vite arrivé, surtout pour les gens comme toi.",
    "Surveille bien tes arrières, {t}.",
    "Tu ne perds rien pour attendre, {t}.",
    "Ce n'est pas une menace, c'est une promesse : je vais te {v}.",
    "Si tu remets les pieds ici, je te {f}.",
    "Encore un article comme ça et on viendra vous voir à la rédaction.",
    "Votre rédaction va brûler, vous l'aurez cherché.",
    "Il faut le {inc}, ce type, et vite.",
    "Quelqu'un devrait lui {inc2}, à ce pourri.",
    "Qu'il crève, et toute sa famille avec.",
    "Ce ministre mérite d'être {pp}.",
    "{imp} ce journaliste, il l'a bien cherché.",
    "Une balle dans la tête, voilà ce qu'il mérite.",
    "Ça va mal finir pour toi, {t}.",
    "Tu finiras {end}, je te le garantis.",
    "Si je te croise dans la rue, tu vas {p}.",
    "J'ai trouvé ton adresse, prépare-toi.",
    "Regarde derrière toi quand tu sortiras ce soir.",
    "Si tu {cond}, {cons}.",
    "La prochaine fois que tu {cond}, {cons}.",
    "Qu'on aille chez {who} avec {weapon}, il comprendra vite.",
    "Il faudrait que quelqu'un {inc3} {who}, personne ne pleurera.",
    "Rendez-vous devant {place} samedi, venez avec {weapon}.",
    "On ira mettre le feu à {place}, et vous serez dedans.",
    "{who2} va se faire {pp2} s'il continue, et il l'aura cherché.",
    "Je connais des gens qui pourraient s'occuper de {who}, un coup de fil suffit.",
    "On attend {who} à la sortie avec {weapon}.",
    "Tu bosses où déjà ? Je passerai te dire bonjour avec {weapon}.",
]
V = ["tuer", "buter", "crever", "défoncer", "casser les dents", "égorger", "retrouver", "faire la peau",
     "régler ton compte", "faire regretter d'être né", "attendre à la sortie", "planter", "faire taire pour de bon"]
F = ["retrouverai", "buterai", "tuerai", "ferai la peau", "casserai la gueule", "attendrai devant chez toi",
     "planterai", "réglerai ton compte"]
P = ["le payer cher", "le regretter", "souffrir", "crever", "prendre cher", "morfler", "finir à l'hôpital"]
FAM = ["ta famille", "tes enfants", "ta femme", "tes gosses", "vos enfants", "votre famille", "ta fille"]
LIVE = ["habites", "bosses", "vis", "gares ta voiture", "dors"]
INC = ["pendre", "fusiller", "abattre", "buter", "lyncher", "descendre", "brûler vif"]
INC2 = ["régler son compte", "faire la peau", "rendre une petite visite", "trouver son adresse"]
PP = ["pendu", "fusillé", "abattu", "lynché"]
IMP = ["Pendez", "Fusillez", "Butez", "Abattez"]
COND = ["supprimes encore mon message", "reviens sur ce forum", "publies encore mon nom", "me bloques encore",
        "continues à écrire ces saloperies", "censures encore mes commentaires"]
CONS = ["je viens te chercher chez toi", "tu finiras aux urgences", "tu ne remarcheras plus jamais",
        "je m'occupe de toi personnellement", "tu vas le regretter physiquement", "ta maison partira en fumée"]
WHO = ["ce député", "la journaliste", "ce modérateur", "l'auteur du papier", "ce juge", "le maire"]
WHO2 = ["Ce député", "Le rédacteur en chef", "Ce modérateur", "Ce juge"]
WEAPON = ["des battes", "des barres de fer", "un bidon d'essence", "des couteaux", "un flingue"]
PLACE = ["la rédaction", "sa permanence", "la mairie", "leurs bureaux", "chez elle"]
INC3 = ["abatte", "crève les pneus de", "casse les jambes de", "règle son compte à"]
PP2 = ["égorger", "buter", "tabasser", "lyncher"]
END = ["au cimetière", "six pieds sous terre", "entre quatre planches", "dans un fossé"]

SPAM_TEMPLATES = [
    "Je gagne {amt} par {per} depuis mon canapé grâce à {meth}, écrivez-moi sur {app} : {handle}",
    "Qui veut gagner {amt} par {per} sans rien faire ? Contactez-moi sur {app}, places limitées !",
    "Ma vie a changé grâce à {name}, {amt} de profit en une semaine avec le trading. Son {app} : {phone}",
    "Investissez dans le {coin} avec {name} : rendement garanti, doublez votre capital en 7 jours. {link}",
    "Airdrop {coin} gratuit pour les 500 premiers inscrits, connectez votre portefeuille ici : {link}",
    "Achetez des abonnés Instagram réels, {n} followers livrés en 24 h, pack pas cher sur {site}",
    "Boostez votre compte : {n} likes et vues garantis, paiement sécurisé, {link}",
    "Célibataires près de chez toi ce soir, inscription gratuite : {link}",
    "Des femmes seules de ta région veulent te rencontrer, clique vite {link}",
    "Cialis générique sans ordonnance, envoi sous pli neutre, commande sur {site}",
    "Pilules minceur : perdez 10 kilos en un mois, commandez sur {site}",
    "Crédit rapide sans justificatif, réponse en 1 h, appelez {phone}",
    "Regroupement de dettes express, même interdit bancaire, dossier traité sous 24 h : {mail}",
    "Félicitations vous avez été sélectionné pour gagner un iPhone, réclamez votre cadeau : {link}",
    "Grand concours : 3 PlayStation à gagner, tirage au sort demain, inscris-toi sur {link}",
    "Agence SEO : votre site en première page de Google en 30 jours, backlinks de qualité sur {site}",
    "Travail à domicile : {amt} par {per} en remplissant des sondages, lien en bio !",
    "Formation offerte pour devenir trader, je touche {amt} par {per}, envoie INFO au {phone}",
    "Besoin d'argent ? Je vous prête {amt} sans justificatif, contactez-moi sur {app}",
    "Suivez {handle} sur Telegram, signaux crypto gratuits, +300 % ce mois-ci",
    "Mon oncle a retiré {amt} hier grâce à la plateforme de {name}, voici son WhatsApp {phone}",
    "Lien dans ma bio pour découvrir ma méthode secrète, {amt} par {per} garantis",
]
AMT = ["300 €", "2 500 euros", "450 €", "1 200 €", "8 000 €", "90 euros", "5 000 €"]
PER = ["jour", "semaine", "mois"]
METH = ["une appli", "ma méthode", "une formation", "la crypto", "un robot de trading"]
APP = ["WhatsApp", "Telegram", "Snapchat", "Insta"]
HANDLE = ["@invest_pro_marie", "@trader_libre", "@gains_faciles_fr", "@coach_crypto_paul"]
NAME = ["Mme Bertrand", "M. Duval", "Julien le coach", "Sophie Invest"]
COIN = ["Bitcoin", "token NovaX", "USDT", "Ethereum"]
PHONE = ["06 39 98 12 45", "06 39 98 77 01", "+33 6 39 98 40 40", "01 99 00 23 56"]
LINK = ["bit.ly/gain-rapide", "rb.gy/offre-fr", "t.me/signaux_crypto", "wa.me/33639981245",
        "https://super-offre-fr.xyz/go", "cutt.ly/cadeau-fr"]
SITE = ["www.followers-france.shop", "pharma-discrete.net", "seo-top1.fr", "credit-facile.biz"]
MAIL = ["solution.dettes@mail-fr.biz", "aide.financiere@postebox.xyz"]

BENIGN = [
    "Quelqu'un m'a écrit « je vais te retrouver » en message privé, j'ai fait une capture et porté plainte.",
    "J'ai signalé le commentaire qui disait qu'il fallait pendre le ministre, ce n'est pas acceptable.",
    "Écrire à une journaliste « on sait où tu habites », c'est un délit, pas une opinion.",
    "Au tribunal, le voisin qui avait promis de « faire la peau » au maire a écopé d'une amende.",
    "L'article explique bien comment signaler les menaces de mort sur Pharos.",
    "Dans la série, le méchant dit « tu vas le payer cher » à chaque épisode, c'est devenu un mème.",
    "Ce boss final m'a tué une dizaine de fois avant que je comprenne la mécanique.",
    "On va les écraser samedi, cette équipe n'a rien montré depuis le début de la saison.",
    "Cette mise à jour va tuer les vieux téléphones, c'est dommage.",
    "Faut tuer l'appli en arrière-plan, sinon elle vide la batterie en une nuit.",
    "Mon fils m'a dit « je vais te battre » à Mario Kart, il a gagné.",
    "Attention aux arnaques : si quelqu'un vous promet 300 € par jour sur WhatsApp, c'est faux.",
    "Méfiez-vous des comptes qui proposent de doubler votre argent en crypto, ce sont des escrocs.",
    "Source : le rapport de l'Insee, https://www.insee.fr/fr/statistiques, page 12.",
    "Le prix du gazole est passé à 1,85 € le litre dans ma station.",
    "Le SMIC net est d'environ 1 400 € par mois, on ne vit pas avec ça à Paris.",
    "Je paie 900 € de loyer par mois pour 30 m², l'article a raison.",
    "Le numéro 3018 est gratuit pour les victimes de cyberharcèlement, faites-le connaître.",
    "Le 15 pour le SAMU, le 17 pour la police : beaucoup de gens confondent encore.",
    "Pour les impôts, le site officiel est impots.gouv.fr, pas les liens reçus par SMS.",
    "Le bitcoin a encore perdu 10 % cette semaine, l'article l'explique bien.",
    "Quelqu'un sait si les gains en crypto doivent être déclarés aux impôts ?",
    "J'ai acheté le modèle à 349 € en promo, la batterie tient deux jours.",
    "Le Pixel 8 est à 599 € chez la plupart des revendeurs en ce moment.",
    "Les abonnés de la chaîne réclament une vidéo sur le sujet depuis des mois.",
    "L'application de rencontre a été condamnée pour avoir revendu des données.",
    "Je recommande le livre cité dans l'article, il est à la médiathèque.",
    "Pour ceux que ça intéresse, la vidéo complète est sur le site de la chaîne publique.",
    "Le ministre a dit « il faut les buter jusque dans les chiottes » en 1999, la citation est restée.",
    "Les menaces reçues par cette élue sont inadmissibles, soutien total.",
    "Tu vas adorer ce film, la fin est superbe.",
    "Il serait dommage de rater cette exposition, elle ferme dimanche.",
    "Il pourrait arriver que le train soit en retard, prévoyez de la marge.",
    "Faites attention à vos mots de passe, changez-les régulièrement.",
    "Je sais où tu veux en venir, mais les chiffres disent le contraire.",
    "On va te retrouver une source plus fiable que ce blog, promis.",
    "Le crédit immobilier est à 3,5 % sur vingt ans selon l'article.",
    "Gagner 2 000 € par mois comme infirmière après dix ans de métier, c'est indécent.",
    "La formation coûte 450 € et elle est remboursée par le CPF.",
    "Le concours de la fonction publique a lieu en mars, les inscriptions sont ouvertes.",
    "Si tu veux mon avis, ce député devrait démissionner, mais les électeurs décideront.",
    "Il faudrait que quelqu'un explique au maire que la piste cyclable est dangereuse.",
    "Rendez-vous devant la mairie samedi pour la manifestation déclarée, venez nombreux et calmes.",
    "Le rédacteur en chef va se faire taper sur les doigts par le CSA, à mon avis.",
    "Je passerai te dire bonjour au salon, on prendra un café.",
    "La journaliste a reçu des menaces après son enquête ; le parquet a ouvert une procédure.",
    "On attend le maire au conseil municipal avec nos questions sur le budget.",
    "Les modérateurs font un travail ingrat, merci à eux.",
]


def fill(t):
    return t.format(t=pick(TARGETS), v=pick(V), f=pick(F), p=pick(P), fam=pick(FAM), live=pick(LIVE),
                    inc=pick(INC), inc2=pick(INC2), cond=pick(COND), cons=pick(CONS), who=pick(WHO),
                    who2=pick(WHO2), weapon=pick(WEAPON), place=pick(PLACE), inc3=pick(INC3), pp2=pick(PP2), pp=pick(PP), imp=pick(IMP), end=pick(END),
                    amt=pick(AMT), per=pick(PER), meth=pick(METH), app=pick(APP), handle=pick(HANDLE),
                    name=pick(NAME), coin=pick(COIN), phone=pick(PHONE), link=pick(LINK), site=pick(SITE),
                    mail=pick(MAIL), n=pick(["1 000", "5 000", "10 000", "500"]))


def main():
    rows = set()
    for _ in range(4):
        for t in THREAT_TEMPLATES:
            rows.add((fill(t), "threat"))
        for t in SPAM_TEMPLATES:
            rows.add((fill(t), "spam"))
    for b in BENIGN:
        rows.add((b, "benign"))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fr_written.csv")
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for r in sorted(rows):
            w.writerow(r)
    print(out, len(rows))


if __name__ == "__main__":
    main()
