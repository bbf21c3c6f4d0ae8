// Vigie moderator console. No framework, no network beyond Vigie. Comment text, names, report
// texts and every other value from the API are untrusted: they only ever reach the page as
// text nodes (textContent / createTextNode), never through innerHTML.
'use strict';

(function () {
  const REASONS = ['spam', 'insult', 'hate', 'threat', 'obscene', 'illegal', 'off_topic',
    'personal_data', 'misinformation', 'other'];
  const PAGE = 100;
  // The views of comments, by the API's queue names.
  const QUEUES = ['pending', 'reported', 'unmoderated', 'approved', 'rejected'];
  const VIEWS = ['queue', 'appeals', 'dashboard', 'team', 'author', 'audit', 'settings'];
  // The author record lists this many comments (the API's most).
  const AUTHOR_COMMENTS = 200;
  // What a comment's status allows (the API's transitions; escalate once).
  const ALLOWED = {
    pending: ['approve', 'reject', 'escalate'], published: ['approve', 'reject', 'escalate'],
    approved: ['reject'], rejected: ['restore'],
  };
  const LEASE = 300;
  const RENEW_MS = 120000;

  const I18N = {
    fr: {
      'signin.label': 'Clé API (modération ou administration)', 'signin.submit': 'Se connecter',
      'signin.bad': 'Clé refusée.', 'signin.ingest': "Une clé d'ingestion ne peut pas ouvrir la console.",
      'signin.email': 'Adresse e-mail', 'signin.password': 'Mot de passe', 'signin.keySubmit': 'Se connecter avec une clé',
      'signin.wrong': 'E-mail ou mot de passe incorrect.', 'signin.code': "Code de l'application d'authentification (ou code de secours)",
      'signin.needCode': "Saisissez le code de votre application d'authentification.", 'nav.2fa': '2FA',
      'totp.title': "Second facteur (application d'authentification)", 'totp.intro': 'Chaque connexion demandera aussi le code à 6 chiffres de votre application.',
      'totp.start': 'Activer', 'totp.secret': "Clé à saisir dans l'application", 'totp.url': 'Ou ce lien otpauth://',
      'totp.code': "Code affiché par l'application", 'totp.confirm': 'Confirmer',
      'totp.codes': 'Codes de secours, affichés une seule fois (chacun sert une fois) :', 'totp.on': 'Le second facteur est activé.',
      'signin.limited': 'Trop de tentatives : réessayez dans {s} s.',
      'inv.title': 'Choisir votre mot de passe', 'inv.hint': 'Au moins 12 caractères ; les mots de passe courants sont refusés.',
      'inv.password': 'Nouveau mot de passe', 'inv.confirm': 'Confirmer le mot de passe', 'inv.submit': 'Enregistrer',
      'inv.mismatch': 'Les deux mots de passe diffèrent.', 'inv.gone': "Ce lien d'invitation a déjà servi ou a expiré : demandez-en un nouveau.",
      'inv.unknown': "Ce lien d'invitation est inconnu.", 'inv.weak': 'Mot de passe refusé ({why}).', 'inv.done': 'Mot de passe enregistré : connectez-vous.',
      'nav.team': 'Équipe', 'team.title': 'Équipe', 'team.email': 'E-mail', 'team.name': 'Nom', 'team.role': 'Rôle',
      'team.state': 'État', 'team.last': 'Dernière connexion', 'team.invite': 'Inviter',
      'team.link': "Lien d'invitation, affiché une seule fois, valable 72 h :", 'team.disable': 'Désactiver',
      'team.enable': 'Réactiver', 'team.reset': 'Nouveau lien', 'role.moderator': 'modération', 'role.admin': 'administration',
      'state.invited': 'invité', 'state.active': 'actif', 'state.disabled': 'désactivé', 'msg.account': 'Compte modifié.',
      'nav.pending': 'À modérer', 'nav.reported': 'Signalés', 'nav.appeals': 'Recours',
'nav.audit': 'Journal', 'nav.settings': 'Réglages', 'nav.signoutAll': 'Déconnecter partout',
      'author.notes': 'Notes de modération (visibles des seuls modérateurs)', 'author.noteNew': 'Nouvelle note',
      'author.noteAdd': 'Ajouter la note', 'author.comments': 'Commentaires', 'author.decisions': 'Décisions et actions',
      'author.open': "Fiche complète de l'auteur", 'author.noteDelete': 'Supprimer', 'author.noNotes': 'Aucune note.',
      'author.title': 'Auteur {id}', 'msg.noteAdded': 'Note ajoutée.', 'msg.noteDeleted': 'Note supprimée.',
      'audit.title': 'Journal des décisions', 'audit.actor': 'Modérateur', 'audit.action': 'Action', 'audit.any': 'toutes',
      'audit.csv': 'Exporter en CSV', 'audit.when': 'Quand', 'audit.change': 'Statut', 'audit.comment': 'Commentaire',
      'audit.reason': 'Motif / note', 'audit.none': 'Aucune décision pour ces filtres.', 'audit.from': 'Depuis', 'audit.console': 'console', 'audit.api': 'API',
      'changes.title': 'Réglages modifiés', 'changes.who': 'Par', 'changes.setting': 'Réglage', 'changes.what': 'Changement',
      'changes.none': 'Aucun réglage modifié.', 'changes.site': 'site', 'changes.thresholds': 'seuils', 'changes.rules': 'règles',
      'changes.words': 'listes de mots', 'changes.thread': 'article',
      'set.title': 'Réglages du site', 'set.site': 'Modération', 'set.mode': 'Mode de modération',
      'set.pre': 'a priori (tout est retenu)', 'set.post': 'a posteriori (publication)',
      'set.hide': 'Seuil de masquage par signalements (poids)', 'set.unscored': 'Langues non évaluées par le modèle',
      'set.newAuthor': "Nouveaux auteurs : retenir jusqu'à ce nombre de commentaires approuvés (0 : non)",
      'set.appeal': 'Comment contester une décision (texte des exposés des motifs)',
      'set.review': 'à examiner', 'set.allow': 'règles seules', 'set.rejectLang': 'rejeter',
      'set.scope': 'Portée territoriale (codes pays, séparés par des virgules)', 'set.save': 'Enregistrer',
      'set.thresholds': 'Seuils du modèle', 'set.toxReview': 'Toxicité : examen à partir de', 'set.toxReject': 'Toxicité : rejet à partir de',
      'set.spamReview': 'Spam : examen à partir de', 'set.spamReject': 'Spam : rejet à partir de',
      'set.useModel': 'Revenir aux seuils du modèle', 'set.thread': "Un article (même avant son premier commentaire)",
      'set.threadId': "Identifiant de l'article", 'set.threadStatus': 'Commentaires', 'set.unchanged': 'inchangé',
      'set.open': 'ouverts', 'set.closed': 'fermés', 'set.siteMode': 'celui du site', 'set.threadTitle': 'Titre (facultatif)',
      'set.threadUrl': 'Adresse (facultative)', 'set.own': 'Seuils propres au site (modèle {m}).',
      'set.modelOnes': 'Le site suit les seuils du modèle.', 'set.outdated': 'Seuils enregistrés pour un autre modèle : à revoir.',
      'msg.saved': 'Réglages enregistrés.', 'msg.signedOutAll': '{n} session(s) fermée(s).',
      'msg.threadCreated': 'Article {id} créé avec ces réglages.', 'msg.threadSaved': 'Article {id} enregistré.',
      'msg.fix': 'Corrigez le champ signalé.',
      'totp.offTitle': 'Désactiver le second facteur', 'totp.offCode': "Code actuel de l'application", 'totp.off': 'Désactiver',
      'totp.isOff': 'Le second facteur est désactivé.', 'totp.refused': 'Mot de passe ou code incorrect.', 'totp.notOn': "Le second facteur n'est pas activé.",
      'words.title': 'Listes de mots', 'words.id': 'Liste', 'words.lang': 'Langue', 'words.action': 'Action', 'words.terms': 'Mots',
      'words.hint': 'Chaque liste : action (signaler, retenir, rejeter), langue, mots séparés par des virgules. Chaque changement crée une nouvelle version des règles.',
      'words.hold': 'retenir', 'words.block': 'rejeter', 'words.flag': 'signaler', 'words.add': 'Ajouter la liste',
      'words.save': 'Enregistrer', 'words.remove': 'Supprimer', 'msg.words': 'Liste {id} enregistrée.', 'msg.wordsRemoved': 'Liste {id} supprimée.',
      'nav.unmoderated': 'Publiés', 'nav.approved': 'Approuvés', 'nav.rejected': 'Rejetés',
      'f.q': 'Rechercher dans le texte', 'f.author': 'Auteur (id)', 'act.restore': 'Rétablir (o)',
      'done.restored': 'rétabli', 'msg.restored': 'Commentaire {id} rétabli (approuvé).',
      'k.o': 'rétablir un commentaire rejeté', 'k.slash': 'rechercher', 'list.none': 'Aucun commentaire ici.',
      'nav.dashboard': 'Tableau de bord', 'nav.signout': 'Se déconnecter',
      'f.thread': 'Article', 'f.reason': 'Motif/règle', 'f.lang': 'Langue', 'f.min': 'Score min',
      'f.max': 'Score max', 'f.from': 'Du', 'f.to': 'Au', 'f.order': 'Ordre', 'f.risk': 'risque',
      'f.age': 'ancienneté', 'f.refresh': 'Actualiser', 'list.more': 'Charger la suite',
      'list.shown': '{n} affichés', 'list.end': 'fin de la file', 'list.empty': 'Rien à modérer.',
      'act.approve': 'Approuver (a)', 'act.reject': 'Rejeter (r)', 'act.escalate': 'Escalader (e)',
      'act.author': 'Auteur (b)', 'act.select': 'Sélectionner (x)', 'act.bulk': 'Rejeter la sélection (R)',
      'sel.info': '{n} sélectionné(s)', 'picker.hint': 'Chiffre pour choisir, Échap pour annuler',
      'picker.reason': 'Motif du rejet', 'picker.bulk': 'Rejeter {n} commentaires : motif',
      'picker.author': "Action sur l'auteur", 'picker.authorReason': 'Motif',
      'author.premod': 'Pré-modérer', 'author.ban': 'Bannir', 'author.banReject': 'Bannir et rejeter ses commentaires en attente',
      'author.active': 'Réactiver',
      'help.title': 'Raccourcis clavier', 'help.close': 'Fermer',
      'appeals.title': 'Recours ouverts', 'appeals.none': 'Aucun recours ouvert.',
      'appeals.uphold': 'Maintenir', 'appeals.reverse': 'Annuler la décision', 'appeals.reply': 'Réponse',
      'appeals.by': 'Recours de {who} contre « {action} » ({reason}) décidé par {mod}',
      'dash.title': 'Tableau de bord', 'dash.days': 'Commentaires par jour et par issue (14 jours)',
      'dash.hist': 'Scores de toxicité de la file (n = {n}) et seuils', 'dash.median': 'Délai médian signalement → décision (30 jours)',
      'dash.mods': 'Par modérateur (30 jours)', 'dash.modName': 'Nom', 'dash.modDecisions': 'Décisions',
      'dash.modPerDay': 'Par jour', 'dash.modMedian': 'Délai médian', 'dash.modOverturned': 'Infirmées en recours',
      'dash.modsNone': 'aucune décision humaine sur la période',
      'dash.medianNone': 'pas encore de signalement traité', 'dash.review': 'examen', 'dash.reject': 'rejet',
      'p.why': 'Pourquoi est-il là ?', 'p.scores': 'Scores', 'p.rules': 'Règles déclenchées',
      'p.reasons': 'Raisons', 'p.recent': 'Derniers commentaires de l\'auteur :', 'p.article': 'Article', 'p.parent': 'Réponse à', 'p.author': 'Auteur',
      'p.reports': 'Signalements', 'p.history': 'Historique des décisions', 'p.none': 'aucun',
      'p.claimOther': 'Réservé par {who} jusqu’à {t}', 'p.claimMine': 'Réservé pour vous jusqu’à {t}',
      'p.record': '{a} approuvé(s), {r} rejeté(s), {p} en attente — statut : {s}',
      'p.reportsSum': '{n} signalement(s) ouvert(s), poids {w}', 'p.brigading': 'vague de signalements suspecte',
      'p.firstSeen': 'vu en premier par', 'p.weight': 'poids {w} (signaleur {rw})', 'p.risk': 'risque', 'p.legend': 'surligné : mots qui ont pesé ; souligné rouge : règles',
      'done.approved': 'approuvé', 'done.rejected': 'rejeté', 'done.escalated': 'escaladé',
      'msg.approved': 'Commentaire {id} approuvé.', 'msg.rejected': 'Commentaire {id} rejeté ({r}).',
      'msg.escalated': 'Commentaire {id} escaladé.', 'msg.bulk': '{done} rejeté(s), {conflict} en conflit.',
      'msg.author': 'Auteur {id} : {s}.', 'msg.error': 'Erreur : {e}', 'msg.expired': 'Session expirée, reconnectez-vous.',
      'msg.appeal': 'Recours {id} traité.',
      'k.jk': 'commentaire suivant / précédent', 'k.a': 'approuver', 'k.r': 'rejeter, puis un chiffre pour le motif',
      'k.e': 'escalader', 'k.b': "actions sur l'auteur (pré-modération, bannissement)", 'k.x': 'sélectionner pour un rejet groupé',
      'k.R': 'rejeter la sélection, puis un chiffre pour le motif', 'k.u': 'actualiser la liste', 'k.help': 'cette aide',
      'k.esc': 'fermer', 'k.reasons': 'motifs',
      'reason.spam': 'spam', 'reason.insult': 'insulte', 'reason.hate': 'haine', 'reason.threat': 'menace',
      'reason.obscene': 'obscénité', 'reason.illegal': 'contenu illicite', 'reason.off_topic': 'hors sujet',
      'reason.personal_data': 'données personnelles', 'reason.misinformation': 'désinformation', 'reason.other': 'autre',
      'out.approved': 'approuvés', 'out.rejected': 'rejetés', 'out.published': 'publiés', 'out.pending': 'retenus',
      // Previews of a change (backtests on the last 30 days).
      'bt.preview': 'Simuler sur les 30 derniers jours', 'bt.previewOf': 'Simuler sur les 30 derniers jours : liste {id}',
      'bt.what.thresholds': 'Seuils essayés (examen / rejet) : toxicité {tr} / {tj}, spam {sr} / {sj}',
      'bt.what.add': 'Ajout de la liste {id}', 'bt.what.change': 'Modification de la liste {id}',
      'bt.queued': 'Simulation en attente…', 'bt.running': 'Simulation : {d} / {t} commentaires évalués…',
      'bt.cancel': 'Annuler la simulation', 'bt.cancelled': 'Simulation annulée.', 'bt.failed': 'La simulation a échoué : {e}',
      'bt.none': 'Aucun commentaire sur la période.',
      'bt.lead': 'Sur les 30 derniers jours, ce changement aurait ', 'bt.sep': ' ; ',
      'bt.held': 'retenu {n} {cm} de plus', 'bt.published': 'publié {n} {cm} de plus', 'bt.rejected': 'rejeté {n} {cm} de plus',
      'bt.mods': ', dont {r} {rj} et {a} {ap} par les modérateurs', 'bt.modsR': ', dont {r} {rj} par les modérateurs',
      'bt.modsA': ', dont {a} {ap} par les modérateurs', 'bt.modsNone': ', aucun décidé par les modérateurs',
      'bt.same': 'Sur les 30 derniers jours ({c} {cm}), ce changement n’aurait modifié le sort d’aucun commentaire.',
      'bt.quality': 'Face aux décisions des modérateurs ({l} {cm}) : précision {p0} → {p1}, rappel {r0} → {r1}.',
      'bt.pct': '{p} %', 'bt.comment1': 'commentaire', 'bt.commentN': 'commentaires',
      'bt.rej1': 'rejeté', 'bt.rejN': 'rejetés', 'bt.app1': 'approuvé', 'bt.appN': 'approuvés',
      'bt.ex.held': 'Nouvellement retenus', 'bt.ex.published': 'Nouvellement publiés', 'bt.ex.rejected': 'Nouvellement rejetés',
      'bt.exMore': '{n} premiers sur {t}', 'bt.out.published': 'publié', 'bt.out.held': 'retenu', 'bt.out.rejected': 'rejeté',
      'bt.tox': 'toxicité', 'bt.rules': 'règles : {r}', 'bt.modRejected': 'rejeté par les modérateurs',
      'bt.modApproved': 'approuvé par les modérateurs', 'bt.modNone': 'sans décision des modérateurs',
      'bt.show': 'Afficher le commentaire #{id}', 'bt.hide': 'Masquer le commentaire #{id}',
    },
    en: {
      'signin.label': 'API key (moderator or admin)', 'signin.submit': 'Sign in',
      'signin.bad': 'Key refused.', 'signin.ingest': 'An ingest key cannot open the console.',
      'signin.email': 'E-mail address', 'signin.password': 'Password', 'signin.keySubmit': 'Sign in with a key',
      'signin.wrong': 'Wrong e-mail or password.', 'signin.code': 'Authenticator app code (or a recovery code)',
      'signin.needCode': 'Enter the code of your authenticator app.', 'nav.2fa': '2FA',
      'totp.title': 'Second factor (authenticator app)', 'totp.intro': 'Every sign-in will also ask for the 6-digit code of your app.',
      'totp.start': 'Turn on', 'totp.secret': 'Key to type into the app', 'totp.url': 'Or this otpauth:// link',
      'totp.code': 'Code shown by the app', 'totp.confirm': 'Confirm',
      'totp.codes': 'Recovery codes, shown once (each works once):', 'totp.on': 'The second factor is on.',
      'signin.limited': 'Too many attempts: try again in {s} s.',
      'inv.title': 'Choose your password', 'inv.hint': 'At least 12 characters; common passwords are refused.',
      'inv.password': 'New password', 'inv.confirm': 'Confirm the password', 'inv.submit': 'Save',
      'inv.mismatch': 'The two passwords differ.', 'inv.gone': 'This invitation link was already used or has expired: ask for a new one.',
      'inv.unknown': 'This invitation link is unknown.', 'inv.weak': 'Password refused ({why}).', 'inv.done': 'Password saved: sign in.',
      'nav.team': 'Team', 'team.title': 'Team', 'team.email': 'E-mail', 'team.name': 'Name', 'team.role': 'Role',
      'team.state': 'State', 'team.last': 'Last sign-in', 'team.invite': 'Invite',
      'team.link': 'Invitation link, shown once, valid 72 h:', 'team.disable': 'Disable',
      'team.enable': 'Enable', 'team.reset': 'New link', 'role.moderator': 'moderator', 'role.admin': 'admin',
      'state.invited': 'invited', 'state.active': 'active', 'state.disabled': 'disabled', 'msg.account': 'Account changed.',
      'nav.pending': 'To review', 'nav.reported': 'Reported', 'nav.appeals': 'Appeals',
'nav.audit': 'Audit log', 'nav.settings': 'Settings', 'nav.signoutAll': 'Sign out everywhere',
      'author.notes': 'Moderator notes (seen by moderators only)', 'author.noteNew': 'New note',
      'author.noteAdd': 'Add the note', 'author.comments': 'Comments', 'author.decisions': 'Decisions and actions',
      'author.open': "Author's full record", 'author.noteDelete': 'Delete', 'author.noNotes': 'No note.',
      'author.title': 'Author {id}', 'msg.noteAdded': 'Note added.', 'msg.noteDeleted': 'Note deleted.',
      'audit.title': 'Decision log', 'audit.actor': 'Moderator', 'audit.action': 'Action', 'audit.any': 'any',
      'audit.csv': 'Export as CSV', 'audit.when': 'When', 'audit.change': 'Status', 'audit.comment': 'Comment',
      'audit.reason': 'Reason / note', 'audit.none': 'No decision for these filters.', 'audit.from': 'From', 'audit.console': 'console', 'audit.api': 'API',
      'changes.title': 'Settings changed', 'changes.who': 'By', 'changes.setting': 'Setting', 'changes.what': 'Change',
      'changes.none': 'No setting changed.', 'changes.site': 'site', 'changes.thresholds': 'thresholds', 'changes.rules': 'rules',
      'changes.words': 'word lists', 'changes.thread': 'article',
      'set.title': 'Site settings', 'set.site': 'Moderation', 'set.mode': 'Moderation mode',
      'set.pre': 'pre-moderation (everything held)', 'set.post': 'post-moderation (published)',
      'set.hide': 'Report weight that hides a comment', 'set.unscored': 'Languages the model does not score',
      'set.newAuthor': 'New authors: hold until this many approved comments (0: off)',
      'set.appeal': 'How to appeal a decision (shown in statements of reasons)',
      'set.review': 'hold for review', 'set.allow': 'rules only', 'set.rejectLang': 'reject',
      'set.scope': 'Territorial scope (country codes, comma-separated)', 'set.save': 'Save',
      'set.thresholds': 'Model thresholds', 'set.toxReview': 'Toxicity: review from', 'set.toxReject': 'Toxicity: reject from',
      'set.spamReview': 'Spam: review from', 'set.spamReject': 'Spam: reject from',
      'set.useModel': "Use the model's thresholds", 'set.thread': 'An article (even before its first comment)',
      'set.threadId': 'Article id', 'set.threadStatus': 'Comments', 'set.unchanged': 'unchanged',
      'set.open': 'open', 'set.closed': 'closed', 'set.siteMode': "the site's", 'set.threadTitle': 'Title (optional)',
      'set.threadUrl': 'Address (optional)', 'set.own': "The site's own thresholds (model {m}).",
      'set.modelOnes': "The site follows the model's thresholds.", 'set.outdated': 'Thresholds saved for another model: check them.',
      'msg.saved': 'Settings saved.', 'msg.signedOutAll': '{n} session(s) ended.',
      'msg.threadCreated': 'Article {id} created with these settings.', 'msg.threadSaved': 'Article {id} saved.',
      'msg.fix': 'Fix the field shown.',
      'totp.offTitle': 'Turn the second factor off', 'totp.offCode': 'Current code of the app', 'totp.off': 'Turn off',
      'totp.isOff': 'The second factor is off.', 'totp.refused': 'Wrong password or code.', 'totp.notOn': 'The second factor is not on.',
      'words.title': 'Word lists', 'words.id': 'List', 'words.lang': 'Language', 'words.action': 'Action', 'words.terms': 'Words',
      'words.hint': 'Each list: action (flag, hold, block), language, words separated by commas. Each change makes a new version of the rules.',
      'words.hold': 'hold', 'words.block': 'block', 'words.flag': 'flag', 'words.add': 'Add the list',
      'words.save': 'Save', 'words.remove': 'Remove', 'msg.words': 'List {id} saved.', 'msg.wordsRemoved': 'List {id} removed.',
      'nav.unmoderated': 'Published', 'nav.approved': 'Approved', 'nav.rejected': 'Rejected',
      'f.q': 'Search the text', 'f.author': 'Author (id)', 'act.restore': 'Restore (o)',
      'done.restored': 'restored', 'msg.restored': 'Comment {id} restored (approved).',
      'k.o': 'restore a rejected comment', 'k.slash': 'search', 'list.none': 'No comment here.',
      'nav.dashboard': 'Dashboard', 'nav.signout': 'Sign out',
      'f.thread': 'Article', 'f.reason': 'Reason/rule', 'f.lang': 'Language', 'f.min': 'Min score',
      'f.max': 'Max score', 'f.from': 'From', 'f.to': 'To', 'f.order': 'Order', 'f.risk': 'risk',
      'f.age': 'age', 'f.refresh': 'Refresh', 'list.more': 'Load more',
      'list.shown': '{n} shown', 'list.end': 'end of queue', 'list.empty': 'Nothing to review.',
      'act.approve': 'Approve (a)', 'act.reject': 'Reject (r)', 'act.escalate': 'Escalate (e)',
      'act.author': 'Author (b)', 'act.select': 'Select (x)', 'act.bulk': 'Reject selection (R)',
      'sel.info': '{n} selected', 'picker.hint': 'Digit to choose, Esc to cancel',
      'picker.reason': 'Reason for rejection', 'picker.bulk': 'Reject {n} comments: reason',
      'picker.author': 'Author action', 'picker.authorReason': 'Reason',
      'author.premod': 'Pre-moderate', 'author.ban': 'Ban', 'author.banReject': 'Ban and reject pending comments',
      'author.active': 'Reinstate',
      'help.title': 'Keyboard shortcuts', 'help.close': 'Close',
      'appeals.title': 'Open appeals', 'appeals.none': 'No open appeal.',
      'appeals.uphold': 'Uphold', 'appeals.reverse': 'Reverse', 'appeals.reply': 'Reply',
      'appeals.by': 'Appeal by the {who} against “{action}” ({reason}) decided by {mod}',
      'dash.title': 'Dashboard', 'dash.days': 'Comments per day by outcome (14 days)',
      'dash.hist': 'Toxicity scores of the queue (n = {n}) and thresholds', 'dash.median': 'Median time from report to decision (30 days)',
      'dash.mods': 'Per moderator (30 days)', 'dash.modName': 'Name', 'dash.modDecisions': 'Decisions',
      'dash.modPerDay': 'Per day', 'dash.modMedian': 'Median time', 'dash.modOverturned': 'Overturned on appeal',
      'dash.modsNone': 'no human decision in the period',
      'dash.medianNone': 'no report decided yet', 'dash.review': 'review', 'dash.reject': 'reject',
      'p.why': 'Why is this here?', 'p.scores': 'Scores', 'p.rules': 'Rules fired',
      'p.reasons': 'Reasons', 'p.recent': 'Recent comments by this author:', 'p.article': 'Article', 'p.parent': 'In reply to', 'p.author': 'Author',
      'p.reports': 'Reports', 'p.history': 'Decision history', 'p.none': 'none',
      'p.claimOther': 'Claimed by {who} until {t}', 'p.claimMine': 'Claimed by you until {t}',
      'p.record': '{a} approved, {r} rejected, {p} pending — status: {s}',
      'p.reportsSum': '{n} open report(s), weight {w}', 'p.brigading': 'suspected report wave',
      'p.firstSeen': 'first seen by', 'p.weight': 'weight {w} (reporter {rw})', 'p.risk': 'risk', 'p.legend': 'highlighted: words that weighed; red underline: rules',
      'done.approved': 'approved', 'done.rejected': 'rejected', 'done.escalated': 'escalated',
      'msg.approved': 'Comment {id} approved.', 'msg.rejected': 'Comment {id} rejected ({r}).',
      'msg.escalated': 'Comment {id} escalated.', 'msg.bulk': '{done} rejected, {conflict} in conflict.',
      'msg.author': 'Author {id}: {s}.', 'msg.error': 'Error: {e}', 'msg.expired': 'Session expired, sign in again.',
      'msg.appeal': 'Appeal {id} decided.',
      'k.jk': 'next / previous comment', 'k.a': 'approve', 'k.r': 'reject, then a digit for the reason',
      'k.e': 'escalate', 'k.b': 'author actions (pre-moderation, ban)', 'k.x': 'select for bulk rejection',
      'k.R': 'reject the selection, then a digit for the reason', 'k.u': 'refresh the list', 'k.help': 'this help',
      'k.esc': 'close', 'k.reasons': 'reasons',
      'reason.spam': 'spam', 'reason.insult': 'insult', 'reason.hate': 'hate', 'reason.threat': 'threat',
      'reason.obscene': 'obscene', 'reason.illegal': 'illegal content', 'reason.off_topic': 'off topic',
      'reason.personal_data': 'personal data', 'reason.misinformation': 'misinformation', 'reason.other': 'other',
      'out.approved': 'approved', 'out.rejected': 'rejected', 'out.published': 'published', 'out.pending': 'held',
      'bt.preview': 'Preview on the last 30 days', 'bt.previewOf': 'Preview on the last 30 days: list {id}',
      'bt.what.thresholds': 'Thresholds tried (review / reject): toxicity {tr} / {tj}, spam {sr} / {sj}',
      'bt.what.add': 'Adding list {id}', 'bt.what.change': 'Changing list {id}',
      'bt.queued': 'Preview queued…', 'bt.running': 'Preview: {d} / {t} comments scored…',
      'bt.cancel': 'Cancel the preview', 'bt.cancelled': 'Preview cancelled.', 'bt.failed': 'The preview failed: {e}',
      'bt.none': 'No comments in the period.',
      'bt.lead': 'Over the last 30 days, this change would have ', 'bt.sep': '; ',
      'bt.held': 'held {n} more {cm}', 'bt.published': 'published {n} more {cm}', 'bt.rejected': 'rejected {n} more {cm}',
      'bt.mods': ', {r} of which moderators rejected and {a} approved', 'bt.modsR': ', {r} of which moderators rejected',
      'bt.modsA': ', {a} of which moderators approved', 'bt.modsNone': ', none of which moderators had decided',
      'bt.same': 'Over the last 30 days ({c} {cm}), this change would not have changed the outcome of any comment.',
      'bt.quality': 'Against moderators’ decisions ({l} {cm}): precision {p0} → {p1}, recall {r0} → {r1}.',
      'bt.pct': '{p}%', 'bt.comment1': 'comment', 'bt.commentN': 'comments',
      'bt.rej1': 'rejected', 'bt.rejN': 'rejected', 'bt.app1': 'approved', 'bt.appN': 'approved',
      'bt.ex.held': 'Newly held', 'bt.ex.published': 'Newly published', 'bt.ex.rejected': 'Newly rejected',
      'bt.exMore': 'first {n} of {t}', 'bt.out.published': 'published', 'bt.out.held': 'held', 'bt.out.rejected': 'rejected',
      'bt.tox': 'toxicity', 'bt.rules': 'rules: {r}', 'bt.modRejected': 'rejected by moderators',
      'bt.modApproved': 'approved by moderators', 'bt.modNone': 'no moderator decision',
      'bt.show': 'Show comment #{id}', 'bt.hide': 'Hide comment #{id}',
    },
  };

  const S = {
    session: null, lang: 'fr', view: null, queue: 'pending', items: [], cursor: -1,
    nextCursor: null, loading: false, selected: new Set(), claimed: null, claimPending: null, renewTimer: null,
    picker: null, pendingKeyAt: null, invitation: null,
  };
  // Measurements read by the browser tests.
  window.__vigie = { lastDecisionMs: null, firstRenderMs: null };

  const $ = (id) => document.getElementById(id);
  function t(key, vars) {
    let s = (I18N[S.lang] && I18N[S.lang][key]) || I18N.fr[key] || key;
    if (vars) for (const k of Object.keys(vars)) s = s.split('{' + k + '}').join(String(vars[k]));
    return s;
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmtDate(s) {
    if (!s) return '';
    const d = new Date(s);
    return d.toLocaleString(S.lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' });
  }
  function status(msg, isError) {
    const p = $('status');
    p.textContent = msg;
    p.className = 'status' + (isError ? ' error' : '');
  }

  class HttpError extends Error {
    constructor(status, problem, retryAfter) {
      super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
      this.status = status;
      this.retryAfter = retryAfter;
      this.type = problem && problem.type;
      this.field = problem && problem.field;
    }
  }

  async function api(method, path, body, opts) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && S.session) headers['X-CSRF-Token'] = S.session.csrf_token;
    const res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive: !!(opts && opts.keepalive),
    });
    if (res.status === 204) return null;
    let data = null;
    const text = await res.text();
    if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
    if (!res.ok) {
      if (res.status === 401 && !(opts && opts.noRedirect)) showSignin(t('msg.expired'));
      throw new HttpError(res.status, data, res.headers.get('Retry-After'));
    }
    return data;
  }
  function fail(e) { status(t('msg.error', { e: e.message }), true); }

  // ---- i18n -------------------------------------------------------------------------------
  function applyI18n() {
    document.documentElement.lang = S.lang;
    for (const n of document.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
    $('btn-lang').textContent = S.lang === 'fr' ? 'EN' : 'FR';
    renderHelp();
    relabelPreviews();
  }
  async function toggleLang() {
    S.lang = S.lang === 'fr' ? 'en' : 'fr';
    applyI18n();
    route();
    try { await api('PATCH', '/console/session', { language: S.lang }); } catch (e) { fail(e); }
  }

  // ---- session ------------------------------------------------------------------------------
  function showSignin(msg) {
    S.session = null;
    stopRenew();
    $('app').hidden = true;
    $('signin').hidden = false;
    $('signin-error').textContent = msg || '';
    $('signin-info').textContent = '';
    $('signin-email').focus();
  }
  async function signInAccount(ev) {
    ev.preventDefault();
    const email = $('signin-email').value.trim();
    const password = $('signin-password').value;
    const body = { email, password, language: S.lang };
    const code = $('signin-code').value.trim();
    if (code) body.code = code;
    try {
      const s = await api('POST', '/v1/session', body, { noRedirect: true });
      $('signin-password').value = '';
      $('signin-code').value = '';
      $('signin-code-row').hidden = true;
      $('signin-account-error').textContent = '';
      start(s);
    } catch (e) {
      if (e.type === 'urn:vigie:problem:second-factor-required') {
        $('signin-code-row').hidden = false;
        $('signin-account-error').textContent = t('signin.needCode');
        $('signin-code').focus();
        return;
      }
      $('signin-code').value = '';
      $('signin-account-error').textContent = e.status === 429 ? t('signin.limited', { s: e.retryAfter || '?' })
        : e.status === 401 ? t('signin.wrong') : e.message;
    }
  }

  // ---- invitation: the link's token is in the fragment, never sent to a server log ------------
  function invitationToken() {
    const m = /^#invitation=([A-Za-z0-9_-]{1,256})$/.exec(location.hash);
    return m ? m[1] : null;
  }
  function showInvitation(token) {
    S.invitation = token;
    $('signin').hidden = true;
    $('app').hidden = true;
    $('invitation').hidden = false;
    $('invitation-password').focus();
  }
  async function setPassword(ev) {
    ev.preventDefault();
    const password = $('invitation-password').value;
    if (password !== $('invitation-confirm').value) { $('invitation-error').textContent = t('inv.mismatch'); return; }
    try {
      const a = await api('POST', '/v1/invitations/' + S.invitation, { password }, { noRedirect: true });
      S.invitation = null;
      $('invitation-form').reset();
      history.replaceState(null, '', location.pathname);
      $('invitation').hidden = true;
      showSignin('');
      $('signin-info').textContent = t('inv.done');
      $('signin-email').value = a.email;
      $('signin-password').focus();
    } catch (e) {
      $('invitation-error').textContent = e.status === 410 ? t('inv.gone') : e.status === 404 ? t('inv.unknown')
        : e.status === 422 ? t('inv.weak', { why: e.message }) : e.message;
    }
  }
  async function signIn(ev) {
    ev.preventDefault();
    const key = $('signin-key').value.trim();
    try {
      const s = await api('POST', '/console/session', { key, language: S.lang }, { noRedirect: true });
      $('signin-key').value = '';
      start(s);
    } catch (e) {
      $('signin-error').textContent = e.status === 403 ? t('signin.ingest') : t('signin.bad');
    }
  }
  async function signOut() {
    // A claim sent just before (opening an item claims it without waiting) must land first, or
    // the server would take it after the release below and keep it for a signed-out moderator.
    stopRenew();
    await S.claimPending;
    try { await api('DELETE', '/v1/claims'); } catch (_) { /* nothing claimed */ }
    try { await api('DELETE', '/console/session'); } catch (_) { /* already gone */ }
    S.claimed = null;
    showSignin('');
  }
  function start(session) {
    S.session = session;
    S.lang = session.language === 'en' ? 'en' : 'fr';
    $('signin').hidden = true;
    $('app').hidden = false;
    $('whoami').textContent = session.name + ' · ' + session.site + ' · ' + session.role;
    $('nav-team').hidden = session.role !== 'admin';
    $('nav-settings').hidden = session.role !== 'admin';
    applyI18n();
    refreshCounts();
    if (!location.hash || location.hash === '#') location.hash = '#/queue/pending';
    else route();
  }

  async function refreshCounts() {
    try {
      const c = await api('GET', '/v1/queues');
      for (const q of QUEUES) $('count-' + q).textContent = c[q] > c.capped_at ? c.capped_at + '+' : c[q];
      $('count-appeals').textContent = c.appeals;
    } catch (_) { /* shown elsewhere */ }
  }

  // ---- routing ------------------------------------------------------------------------------
  function route() {
    if (!S.session) return;
    const h = location.hash.replace(/^#\/?/, '').split('/');
    let view = h[0] || 'queue';
    if ((view === 'team' || view === 'settings') && S.session.role !== 'admin') view = 'queue';
    if (!VIEWS.includes(view)) view = 'queue';
    for (const v of VIEWS) $('view-' + v).hidden = v !== view;
    const q = QUEUES.includes(h[1]) ? h[1] : 'pending';
    const nav = view === 'queue' ? q : view;
    for (const a of document.querySelectorAll('[data-nav]')) {
      a.classList.toggle('active', a.dataset.nav === nav);
      if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    if (view !== 'queue') releaseCurrent();
    if (view === 'queue') {
      if (S.view !== 'queue' || S.queue !== q) { S.queue = q; loadQueue(true); }
      else { renderList(); renderPanel(); }
    } else if (view === 'appeals') loadAppeals();
    else if (view === 'dashboard') loadDashboard();
    else if (view === 'team') loadTeam();
    else if (view === 'author') loadAuthor(decodeURIComponent(h.slice(1).join('/')));
    else if (view === 'audit') loadAudit(true);
    else if (view === 'settings') loadSettings();
    S.view = view;
  }

  // ---- queue list ---------------------------------------------------------------------------
  function queryString() {
    const f = new FormData($('filters'));
    const p = new URLSearchParams();
    for (const [k, v] of f.entries()) {
      if (v === '') continue;
      if (k === 'from' || k === 'to') p.set(k, v + (k === 'from' ? 'T00:00:00Z' : 'T23:59:59Z'));
      else p.set(k, v);
    }
    if (p.has('min_score') || p.has('max_score')) p.set('category', 'toxicity');
    p.set('limit', String(PAGE));
    return p;
  }
  async function loadQueue(reset) {
    if (S.loading) return;
    S.loading = true;
    const t0 = performance.now();
    try {
      const p = queryString();
      if (!reset && S.nextCursor) p.set('cursor', S.nextCursor);
      const page = await api('GET', '/v1/queues/' + S.queue + '?' + p.toString());
      if (reset) {
        releaseCurrent();
        S.items = [];
        S.cursor = -1;
        S.selected.clear();
      }
      // Appended, never re-sorted: the list stays still under the cursor until a refresh.
      const known = new Set(S.items.map((i) => i.comment.id));
      for (const it of page.items) if (!known.has(it.comment.id)) S.items.push(it);
      S.nextCursor = page.next_cursor;
      renderList();
      if (reset) {
        if (S.items.length) select(0); else renderPanel();
        window.__vigie.firstRenderMs = performance.now() - t0;
      }
    } catch (e) { fail(e); } finally { S.loading = false; }
    refreshCounts();
  }

  function listItem(it, idx) {
    const li = el('li');
    li.dataset.idx = String(idx);
    li.dataset.id = String(it.comment.id);
    const box = el('input');
    box.type = 'checkbox';
    box.tabIndex = -1;
    box.checked = S.selected.has(it.comment.id);
    box.addEventListener('click', (e) => { e.stopPropagation(); toggleSelect(it.comment.id); });
    li.appendChild(box);
    const score = S.queue === 'reported' ? it.report_weight : (it.comment.score_toxicity ?? it.comment.risk);
    li.appendChild(el('span', 'risk', (score ?? 0).toFixed(2)));
    const text = el('div');
    text.appendChild(el('div', 'excerpt', it.comment.body.slice(0, 160)));
    const meta = el('div', 'muted');
    meta.textContent = (it.thread.title || it.thread.id) + ' · ' + fmtDate(it.comment.created_at);
    if (it.done) meta.appendChild(el('span', 'outcome', ' · ' + t('done.' + it.done)));
    text.appendChild(meta);
    li.appendChild(text);
    if (it.done) li.classList.add('done');
    if (idx === S.cursor) li.classList.add('current');
    li.addEventListener('click', () => select(idx));
    return li;
  }
  function renderList() {
    const ol = $('list');
    clear(ol);
    const frag = document.createDocumentFragment();
    S.items.forEach((it, idx) => frag.appendChild(listItem(it, idx)));
    ol.appendChild(frag);
    $('list-title').textContent = t('nav.' + S.queue);
    $('list-info').textContent = S.items.length ? t('list.shown', { n: S.items.length }) + (S.nextCursor ? '' : ' · ' + t('list.end'))
      : t(S.queue === 'pending' || S.queue === 'reported' ? 'list.empty' : 'list.none');
    $('btn-more').hidden = !S.nextCursor;
    $('selection-info').textContent = S.selected.size ? t('sel.info', { n: S.selected.size }) : '';
  }
  function updateRow(idx) {
    const old = $('list').children[idx];
    if (old) old.replaceWith(listItem(S.items[idx], idx));
  }

  function select(idx) {
    if (idx < 0 || idx >= S.items.length) return;
    const prev = S.cursor;
    S.cursor = idx;
    const rows = $('list').children;
    if (rows[prev]) rows[prev].classList.remove('current');
    if (rows[idx]) { rows[idx].classList.add('current'); rows[idx].scrollIntoView({ block: 'nearest' }); }
    renderPanel();
    const it = S.items[idx];
    // Claims guard the review queues; browsing decided comments claims nothing.
    if (!it.done && allowed(it).includes('approve')) claim(it.comment.id); else releaseCurrent();
    // Near the end of what is loaded: fetch the next page (appended below, nothing moves).
    if (S.nextCursor && idx >= S.items.length - 5) loadQueue(false);
  }
  function move(delta) {
    if (!S.items.length) return;
    select(Math.min(S.items.length - 1, Math.max(0, S.cursor + delta)));
  }
  function nextUndecided(from) {
    for (let i = from + 1; i < S.items.length; i++) if (!S.items[i].done) return i;
    for (let i = from - 1; i >= 0; i--) if (!S.items[i].done) return i;
    return -1;
  }

  // ---- claims -------------------------------------------------------------------------------
  function stopRenew() { if (S.renewTimer) { clearInterval(S.renewTimer); S.renewTimer = null; } }
  function releaseCurrent() {
    stopRenew();
    const id = S.claimed;
    S.claimed = null;
    // After the claim in flight, if any: released first, it would be taken back when it lands.
    if (id && S.session) Promise.resolve(S.claimPending).then(() => api('DELETE', '/v1/comments/' + id + '/claim')).catch(() => {});
  }
  function claim(id) {
    if (S.claimed === id) return;
    releaseCurrent();
    S.claimed = id;
    const take = () => {
      S.claimPending = api('POST', '/v1/comments/' + id + '/claim', { lease_seconds: LEASE })
        .then((c) => { const it = S.items[S.cursor]; if (it && it.comment.id === id && c) { it.claimInfo = c; } })
        .catch((e) => { if (e.status === 409) status(e.message, true); });
    };
    take();
    S.renewTimer = setInterval(take, RENEW_MS);
  }

  // ---- item panel -----------------------------------------------------------------------------
  // Byte offsets (UTF-8) of the original text → indices of the JS (UTF-16) string.
  function byteToIndex(text) {
    const map = new Map();
    let bytes = 0;
    let i = 0;
    for (const ch of text) {
      map.set(bytes, i);
      const cp = ch.codePointAt(0);
      bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      i += ch.length;
    }
    map.set(bytes, i);
    return map;
  }
  // The comment as text nodes, with <mark> elements around the spans (never innerHTML).
  function highlighted(body, verdict) {
    const out = el('div', 'body');
    const spans = [];
    if (verdict) {
      for (const tt of verdict.top_terms || []) spans.push({ s: tt.start, e: tt.end, cls: 'term', title: tt.term + ' (' + tt.category + ', ' + Number(tt.weight).toFixed(2) + ')' });
      for (const r of verdict.rules || []) if (r.start != null && r.end != null) spans.push({ s: r.start, e: r.end, cls: 'rule', title: r.id + ' → ' + r.action });
    }
    const map = byteToIndex(body);
    const cuts = new Set([0, body.length]);
    const ranges = [];
    for (const sp of spans) {
      const a = map.get(sp.s);
      const b = map.get(sp.e);
      if (a === undefined || b === undefined || b <= a) continue;
      ranges.push({ a, b, cls: sp.cls, title: sp.title });
      cuts.add(a); cuts.add(b);
    }
    const points = [...cuts].sort((x, y) => x - y);
    for (let k = 0; k + 1 < points.length; k++) {
      const a = points[k];
      const b = points[k + 1];
      const piece = body.slice(a, b);
      const covering = ranges.filter((r) => r.a <= a && r.b >= b);
      if (!covering.length) { out.appendChild(document.createTextNode(piece)); continue; }
      const m = el('mark', [...new Set(covering.map((r) => r.cls))].join(' '));
      m.title = covering.map((r) => r.title).join(' ; ');
      m.appendChild(document.createTextNode(piece));
      out.appendChild(m);
    }
    return out;
  }
  function section(panel, titleKey) {
    panel.appendChild(el('h3', null, t(titleKey)));
  }
  function kv(pairs) {
    const dl = el('dl', 'kv');
    for (const [k, v] of pairs) { dl.appendChild(el('dt', null, k)); const dd = el('dd'); if (v instanceof Node) dd.appendChild(v); else dd.textContent = v == null ? '' : String(v); dl.appendChild(dd); }
    return dl;
  }
  function scoreRow(grid, label, value) {
    grid.appendChild(el('span', null, label));
    const bar = el('div', 'bar' + (value >= 0.6 ? ' high' : ''));
    const fill = el('span');
    fill.style.width = Math.round(Math.max(0, Math.min(1, value || 0)) * 100) + '%';
    bar.appendChild(fill);
    grid.appendChild(bar);
    grid.appendChild(el('span', null, value == null ? '—' : Number(value).toFixed(3)));
  }
  function safeLink(url, text) {
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      const a = el('a', null, text);
      a.href = u.href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      return a;
    } catch (_) { return el('span', null, text); }
  }

  // The actions the current comment's status allows (none once decided here).
  function allowed(it) {
    if (!it || it.done) return [];
    return (ALLOWED[it.comment.status] || []).filter((a) => a !== 'escalate' || !it.comment.escalated);
  }
  function updateActions() {
    const can = allowed(S.items[S.cursor]);
    for (const a of ['approve', 'reject', 'escalate', 'restore']) $('btn-' + a).disabled = !can.includes(a);
    $('btn-select').disabled = !can.includes('reject');
  }
  function renderPanel() {
    updateActions();
    const panel = $('panel');
    clear(panel);
    const it = S.items[S.cursor];
    if (!it) { panel.dataset.id = ''; panel.appendChild(el('p', 'muted', t('list.empty'))); return; }
    const c = it.comment;
    panel.dataset.id = String(c.id);
    const h = el('h2', null, t('p.why') + ' — #' + c.id + ' · ' + c.status + (c.escalated ? ' · ⚑' : '') + (it.done ? ' · ' + t('done.' + it.done) : ''));
    panel.appendChild(h);
    if (it.claim && !it.claim.mine) panel.appendChild(el('p', 'flag', t('p.claimOther', { who: it.claim.moderator, t: fmtDate(it.claim.expires_at) })));
    const v = it.verdict || null;
    panel.appendChild(highlighted(c.body, v));
    panel.appendChild(el('p', 'muted', t('p.legend') + ' · ' + (c.lang || '?') + ' · ' + fmtDate(c.created_at)));

    section(panel, 'p.scores');
    const grid = el('div', 'scores');
    scoreRow(grid, 'toxicity', v && v.scores ? v.scores.toxicity : c.score_toxicity);
    scoreRow(grid, 'spam', v && v.scores ? v.scores.spam : c.score_spam);
    scoreRow(grid, t('p.risk'), c.risk);
    panel.appendChild(grid);

    section(panel, 'p.rules');
    const rules = (v && v.rules) || [];
    if (!rules.length) panel.appendChild(el('p', 'muted', t('p.none')));
    else { const ul = el('ul', 'plain'); for (const r of rules) ul.appendChild(el('li', null, r.id + ' — ' + r.action + ' · ' + r.category + (r.term ? ' · « ' + r.term + ' »' : ''))); panel.appendChild(ul); }
    const reasons = [...(it.reasons || []), ...((v && v.reasons) || [])];
    if (reasons.length) {
      section(panel, 'p.reasons');
      const ul = el('ul', 'plain');
      for (const r of reasons) ul.appendChild(el('li', null, r));
      panel.appendChild(ul);
    }

    section(panel, 'p.article');
    const art = el('p');
    art.appendChild(it.thread.url ? safeLink(it.thread.url, it.thread.title || it.thread.id) : el('span', null, it.thread.title || it.thread.id));
    panel.appendChild(art);
    if (it.parent) {
      section(panel, 'p.parent');
      panel.appendChild(el('div', 'body', it.parent.body));
      panel.appendChild(el('p', 'muted', '#' + it.parent.id + ' · ' + it.parent.status));
    }

    section(panel, 'p.author');
    const a = it.author;
    panel.appendChild(kv([[a.name || '—', a.id], ['', t('p.record', { a: a.approved, r: a.rejected, p: a.pending, s: a.status + (a.status_until ? ' → ' + fmtDate(a.status_until) : '') })]]));
    const open = el('a', 'author-open', t('author.open'));
    open.href = '#/author/' + encodeURIComponent(a.id);
    panel.appendChild(open);
    const recent = el('ul', 'plain author-recent');
    panel.appendChild(recent);
    const authorKey = a.id;
    api('GET', '/v1/authors/' + encodeURIComponent(authorKey)).then((av) => {
      if (panel.dataset.id !== String(c.id)) return;
      recent.appendChild(el('li', 'muted', t('p.recent')));
      for (const rc of av.recent) {
        if (rc.id === c.id) continue;
        const li = el('li', 'recent-' + rc.status, fmtDate(rc.created_at) + ' · ' + rc.status + ' · ');
        li.appendChild(el('span', null, rc.excerpt));
        recent.appendChild(li);
      }
      for (const ac of av.actions) recent.appendChild(el('li', 'muted', fmtDate(ac.created_at) + ' · ' + ac.actor + ' · ' + ac.from_status + ' → ' + ac.to_status + ' · ' + ac.reason));
    }).catch(() => {});

    if ((it.reports && it.reports.length) || it.open_reports) {
      section(panel, 'p.reports');
      const sum = el('p', null, t('p.reportsSum', { n: it.open_reports, w: Number(it.report_weight).toFixed(2) }));
      if (it.brigading) sum.appendChild(el('span', 'flag', ' · ' + t('p.brigading')));
      panel.appendChild(sum);
      const box = el('div', 'reports');
      for (const r of it.reports || []) {
        const d = el('div', 'report' + (r.brigading ? ' brigading' : ''));
        d.appendChild(el('strong', null, r.category + ' '));
        d.appendChild(el('span', 'muted', r.reference + ' · ' + r.source + ' · ' + r.status + ' · ' + t('p.weight', { w: Number(r.weight).toFixed(2), rw: Number(r.reporter_weight).toFixed(2) }) + ' · ' + fmtDate(r.created_at)));
        if (r.brigading) d.appendChild(el('span', 'flag', ' · ' + t('p.brigading')));
        if (r.text) d.appendChild(el('div', null, r.text));
        if (r.legal_ground) d.appendChild(el('div', 'muted', r.legal_ground + (r.explanation ? ' — ' + r.explanation : '')));
        box.appendChild(d);
      }
      panel.appendChild(box);
    }

    section(panel, 'p.history');
    const hist = el('ol', 'plain history');
    panel.appendChild(hist);
    const id = c.id;
    api('GET', '/v1/comments/' + id + '/history').then((hd) => {
      if (panel.dataset.id !== String(id)) return;
      for (const d of hd.decisions) hist.appendChild(el('li', null, fmtDate(d.created_at) + ' · ' + d.actor + ' (' + d.source + ') · ' + (d.from_status || '∅') + ' → ' + d.to_status + (d.reason ? ' · ' + d.reason : '') + (d.internal_note ? ' · ' + d.internal_note : '')));
      if (hd.first_seen_by) hist.appendChild(el('li', 'muted', t('p.firstSeen') + ' ' + hd.first_seen_by + ' · ' + fmtDate(hd.first_seen_at)));
    }).catch(() => {});
  }

  // ---- decisions ----------------------------------------------------------------------------
  function afterDecision(idx, outcome, keyAt) {
    const it = S.items[idx];
    it.done = outcome;
    S.selected.delete(it.comment.id);
    if (S.claimed === it.comment.id) { stopRenew(); S.claimed = null; }
    updateRow(idx);
    const next = nextUndecided(idx);
    if (next >= 0) select(next); else { S.cursor = idx; renderPanel(); }
    if (keyAt != null) window.__vigie.lastDecisionMs = performance.now() - keyAt;
    $('selection-info').textContent = S.selected.size ? t('sel.info', { n: S.selected.size }) : '';
    refreshCounts();
  }
  async function decide(action, reason, keyAt) {
    const idx = S.cursor;
    const it = S.items[idx];
    if (!allowed(it).includes(action)) return;
    const body = { action, expected_revision: it.comment.revision };
    if (reason) body.reason = reason;
    try {
      await api('POST', '/v1/comments/' + it.comment.id + '/decisions', body);
      const outcome = { approve: 'approved', reject: 'rejected', escalate: 'escalated', restore: 'restored' }[action];
      afterDecision(idx, outcome, keyAt);
      status(t('msg.' + outcome, { id: it.comment.id, r: reason ? t('reason.' + reason) : '' }));
    } catch (e) { fail(e); }
  }
  async function bulkReject(reason) {
    const ids = [...S.selected];
    if (!ids.length) return;
    try {
      const res = await api('POST', '/v1/decisions/bulk', { ids, action: 'reject', reason });
      const list = Array.isArray(res) ? res : (res.items || res.results || []);
      let done = 0; let conflict = 0;
      for (const r of list) {
        if (r.result === 'done') {
          done++;
          const idx = S.items.findIndex((i) => i.comment.id === r.id);
          if (idx >= 0) { S.items[idx].done = 'rejected'; updateRow(idx); }
        } else conflict++;
      }
      S.selected.clear();
      renderList();
      const cur = S.items[S.cursor];
      if (cur && cur.done) { const n = nextUndecided(S.cursor); if (n >= 0) select(n); else renderPanel(); } else renderPanel();
      status(t('msg.bulk', { done, conflict }));
      refreshCounts();
    } catch (e) { fail(e); }
  }
  function toggleSelect(id) {
    if (id == null) { const it = S.items[S.cursor]; if (!allowed(it).includes('reject')) return; id = it.comment.id; }
    if (S.selected.has(id)) S.selected.delete(id); else S.selected.add(id);
    const idx = S.items.findIndex((i) => i.comment.id === id);
    if (idx >= 0) updateRow(idx);
    $('selection-info').textContent = S.selected.size ? t('sel.info', { n: S.selected.size }) : '';
  }
  async function authorAction(statusValue, rejectPending, reason) {
    const it = S.items[S.cursor];
    if (!it) return;
    try {
      const res = await api('POST', '/v1/authors/' + encodeURIComponent(it.author.id) + '/status', { status: statusValue, reason, reject_pending: rejectPending });
      it.author.status = res.status;
      for (const id of res.rejected_comments || []) {
        const idx = S.items.findIndex((i) => i.comment.id === id);
        if (idx >= 0) { S.items[idx].done = 'rejected'; updateRow(idx); }
      }
      status(t('msg.author', { id: it.author.id, s: res.status }));
      if (it.done) { const n = nextUndecided(S.cursor); if (n >= 0) select(n); else renderPanel(); } else renderPanel();
      refreshCounts();
    } catch (e) { fail(e); }
  }

  // ---- picker (reasons, author actions) -----------------------------------------------------
  function openPicker(title, options, onPick) {
    S.picker = { options, onPick };
    $('picker-title').textContent = title;
    const ol = $('picker-options');
    clear(ol);
    options.forEach((o, i) => {
      const li = el('li');
      const b = el('button', null, o.digit + ' — ' + o.label);
      b.type = 'button';
      b.dataset.digit = o.digit;
      b.addEventListener('click', () => pick(o.digit));
      li.appendChild(b);
      ol.appendChild(li);
      void i;
    });
    $('picker').hidden = false;
  }
  function closePicker() { S.picker = null; $('picker').hidden = true; }
  function pick(digit) {
    const p = S.picker;
    if (!p) return;
    const o = p.options.find((x) => x.digit === digit);
    if (!o) return;
    closePicker();
    p.onPick(o.value);
  }
  function reasonOptions() {
    return REASONS.map((r, i) => ({ digit: String((i + 1) % 10), value: r, label: t('reason.' + r) + ' (' + r + ')' }));
  }
  function askReject(keyAt) {
    if (!allowed(S.items[S.cursor]).includes('reject')) return;
    openPicker(t('picker.reason'), reasonOptions(), (reason) => decide('reject', reason, S.pendingKeyAt ?? keyAt));
  }
  function askBulk() {
    if (!S.selected.size) return;
    openPicker(t('picker.bulk', { n: S.selected.size }), reasonOptions(), (reason) => bulkReject(reason));
  }
  function askAuthor() {
    if (!S.items[S.cursor]) return;
    const opts = [
      { digit: '1', value: ['premod', false], label: t('author.premod') },
      { digit: '2', value: ['banned', false], label: t('author.ban') },
      { digit: '3', value: ['banned', true], label: t('author.banReject') },
      { digit: '4', value: ['active', false], label: t('author.active') },
    ];
    openPicker(t('picker.author'), opts, ([st, rej]) => {
      openPicker(t('picker.authorReason'), reasonOptions(), (reason) => authorAction(st, rej, reason));
    });
  }

  // ---- help ---------------------------------------------------------------------------------
  function renderHelp() {
    const dl = $('help-list');
    clear(dl);
    const rows = [['j / k', t('k.jk')], ['a', t('k.a')], ['r', t('k.r')], ['e', t('k.e')], ['b', t('k.b')],
      ['x', t('k.x')], ['R', t('k.R')], ['o', t('k.o')], ['/', t('k.slash')], ['u', t('k.u')], ['?', t('k.help')], ['Esc', t('k.esc')],
      ['1–9, 0', t('k.reasons') + ' : ' + REASONS.map((r, i) => ((i + 1) % 10) + ' ' + t('reason.' + r)).join(', ')]];
    for (const [k, v] of rows) { dl.appendChild(el('dt', null, k)); dl.appendChild(el('dd', null, v)); }
  }
  function toggleHelp(force) { $('help').hidden = force === undefined ? !$('help').hidden : !force; }

  // ---- keyboard -----------------------------------------------------------------------------
  function onKey(ev) {
    if (!S.session || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const tag = (ev.target && ev.target.tagName) || '';
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') { if (ev.key === 'Escape') ev.target.blur(); return; }
    const keyAt = performance.now();
    if (ev.key === 'Escape') { closePicker(); toggleHelp(false); return; }
    if (S.picker) { if (/^[0-9]$/.test(ev.key)) { ev.preventDefault(); pick(ev.key); } return; }
    if (ev.key === '?') { ev.preventDefault(); toggleHelp(); return; }
    if (!$('help').hidden || !$('totp').hidden) return;
    if (S.view !== 'queue') return;
    switch (ev.key) {
      case 'j': move(1); break;
      case 'k': move(-1); break;
      case 'a': decide('approve', null, keyAt); break;
      case 'r': S.pendingKeyAt = null; askReject(keyAt); break;
      case 'e': decide('escalate', null, keyAt); break;
      case 'o': decide('restore', null, keyAt); break;
      case '/': $('search-q').focus(); break;
      case 'b': askAuthor(); break;
      case 'x': toggleSelect(); break;
      case 'R': askBulk(); break;
      case 'u': loadQueue(true); break;
      default: return;
    }
    ev.preventDefault();
  }

  // ---- appeals ------------------------------------------------------------------------------
  async function loadAppeals() {
    const box = $('appeals-list');
    clear(box);
    let items;
    try { items = await api('GET', '/v1/appeals'); } catch (e) { fail(e); return; }
    if (!items.length) { box.appendChild(el('p', 'muted', t('appeals.none'))); return; }
    for (const a of items) {
      const card = el('div', 'card appeal');
      card.dataset.appeal = String(a.appeal.id);
      card.appendChild(el('p', 'muted', t('appeals.by', { who: a.appellant, action: a.decision_action || '?', reason: a.decision_reason || '—', mod: a.decided_by }) + ' · ' + fmtDate(a.appeal.created_at)));
      card.appendChild(el('div', 'body', a.comment_body));
      card.appendChild(el('p', null, a.appeal.text));
      const ta = el('textarea');
      ta.placeholder = t('appeals.reply');
      card.appendChild(ta);
      const row = el('div', 'actions');
      for (const outcome of ['uphold', 'reverse']) {
        const b = el('button', null, t('appeals.' + outcome));
        b.type = 'button';
        b.addEventListener('click', async () => {
          try {
            await api('POST', '/v1/appeals/' + a.appeal.id + '/decision', { outcome, reply: ta.value });
            card.remove();
            status(t('msg.appeal', { id: a.appeal.id }));
            refreshCounts();
          } catch (e) { fail(e); }
        });
        row.appendChild(b);
      }
      card.appendChild(row);
      box.appendChild(card);
    }
  }

  // ---- second factor of the signed-in account --------------------------------------------------
  function openTotp() {
    $('totp').hidden = false;
    $('totp-enrol').hidden = true;
    $('totp-done').hidden = true;
    $('totp-start').hidden = false;
    $('totp-error').textContent = '';
    $('totp-start').focus();
  }
  async function startTotp() {
    try {
      const e = await api('POST', '/v1/account/totp');
      $('totp-secret').value = e.secret;
      $('totp-url').value = e.otpauth_url;
      $('totp-start').hidden = true;
      $('totp-enrol').hidden = false;
      $('totp-error').textContent = '';
      $('totp-code').focus();
    } catch (e) { $('totp-error').textContent = e.message; }
  }
  async function confirmTotp() {
    try {
      const r = await api('POST', '/v1/account/totp/confirm', { code: $('totp-code').value.trim() });
      $('totp-enrol').hidden = true;
      $('totp-done').hidden = false;
      clear($('totp-codes'));
      for (const c of r.recovery_codes) $('totp-codes').appendChild(el('li', null, c));
      $('totp-error').textContent = '';
      status(t('totp.on'));
    } catch (e) { $('totp-error').textContent = e.message; }
  }

  async function disableTotp() {
    try {
      await api('POST', '/v1/account/totp/disable', { password: $('totp-off-password').value, code: $('totp-off-code').value.trim() });
      $('totp-error').textContent = '';
      status(t('totp.isOff'));
      $('totp').hidden = true;
    } catch (e) {
      $('totp-error').textContent = e.status === 403 ? t('totp.refused') : e.status === 409 ? t('totp.notOn')
        : e.status === 429 ? t('signin.limited', { s: e.retryAfter || '?' }) : e.message;
    } finally { $('totp-off-password').value = ''; $('totp-off-code').value = ''; }
  }

  // ---- team (admins): invite, change role, disable, reset --------------------------------------
  function showLink(url) {
    $('invite-result').hidden = false;
    $('invite-link').value = url;
    $('invite-link').select();
  }
  async function updateAccount(id, change) {
    try { await api('PATCH', '/v1/accounts/' + id, change); status(t('msg.account')); } catch (e) { fail(e); }
    loadTeam();
  }
  async function resetAccount(id) {
    try { showLink((await api('POST', '/v1/accounts/' + id + '/invitation')).invitation_url); } catch (e) { fail(e); }
    loadTeam();
  }
  async function invite(ev) {
    ev.preventDefault();
    const f = new FormData($('invite-form'));
    const body = { email: f.get('email'), role: f.get('role') };
    if (f.get('name')) body.name = f.get('name');
    try {
      showLink((await api('POST', '/v1/accounts', body)).invitation_url);
      $('invite-form').reset();
    } catch (e) { fail(e); }
    loadTeam();
  }
  async function loadTeam() {
    const box = $('team-list');
    let list;
    try { list = await api('GET', '/v1/accounts'); } catch (e) { fail(e); return; }
    clear(box);
    for (const a of list.items) {
      const tr = el('tr');
      tr.dataset.account = String(a.id);
      tr.dataset.state = a.state;
      tr.append(el('td', 'name', a.name), el('td', null, a.email));
      const role = el('select', 'role');
      role.setAttribute('aria-label', t('team.role'));
      for (const r of ['moderator', 'admin']) {
        const o = el('option', null, t('role.' + r));
        o.value = r;
        o.selected = a.role === r;
        role.appendChild(o);
      }
      role.addEventListener('change', () => updateAccount(a.id, { role: role.value }));
      const roleCell = el('td');
      roleCell.appendChild(role);
      tr.append(roleCell, el('td', 'state', t('state.' + a.state)), el('td', null, fmtDate(a.last_sign_in_at)));
      const actions = el('td');
      const toggle = el('button', 'toggle', t(a.state === 'disabled' ? 'team.enable' : 'team.disable'));
      toggle.type = 'button';
      toggle.addEventListener('click', () => updateAccount(a.id, { disabled: a.state !== 'disabled' }));
      const reset = el('button', 'reset', t('team.reset'));
      reset.type = 'button';
      reset.addEventListener('click', () => resetAccount(a.id));
      actions.append(toggle, reset);
      tr.appendChild(actions);
      box.appendChild(tr);
    }
  }

  // ---- dashboard (inline SVG built here) ------------------------------------------------------
  const SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k of Object.keys(attrs || {})) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  const COLORS = { approved: '#2e7d32', published: '#7fb77e', rejected: '#c62828', pending: '#b26a00' };

  async function loadDashboard() {
    drawDays();
    drawHistogram();
    drawMedian();
    drawModerators();
  }
  function duration(secs) {
    const hours = secs / 3600;
    return hours >= 1 ? hours.toFixed(1) + ' h' : secs >= 60 ? Math.round(secs / 60) + ' min' : secs + ' s';
  }
  // Admins: each moderator's decisions, per day, median time to decision, share overturned.
  async function drawModerators() {
    const fig = $('chart-moderators');
    clear(fig);
    if (!S.session || S.session.role !== 'admin') { fig.hidden = true; return; }
    fig.hidden = false;
    fig.appendChild(el('figcaption', null, t('dash.mods')));
    let page;
    try { page = await api('GET', '/v1/moderators/figures?days=30'); } catch (e) { fig.appendChild(el('p', 'error', e.message)); return; }
    if (!page.moderators.length) { fig.appendChild(el('p', 'muted', t('dash.modsNone'))); return; }
    const table = el('table', 'team');
    const head = el('tr');
    for (const k of ['dash.modName', 'dash.modDecisions', 'dash.modPerDay', 'dash.modMedian', 'dash.modOverturned']) head.appendChild(el('th', null, t(k)));
    table.appendChild(head);
    for (const m of page.moderators) {
      const tr = el('tr');
      tr.append(el('td', 'name', m.name), el('td', null, m.decisions),
        el('td', null, (m.decisions / 30).toFixed(2)),
        el('td', null, m.median_seconds_to_decision == null ? '—' : duration(m.median_seconds_to_decision)),
        el('td', null, Math.round(m.overturned_share * 100) + ' %'));
      table.appendChild(tr);
    }
    fig.appendChild(table);
  }
  async function drawDays() {
    const fig = $('chart-days');
    clear(fig);
    fig.appendChild(el('figcaption', null, t('dash.days')));
    const days = [];
    const today = new Date(); today.setUTCHours(0, 0, 0, 0);
    for (let i = 13; i >= 0; i--) days.push(new Date(today.getTime() - i * 86400000).toISOString().slice(0, 10));
    const counts = {};
    for (const d of days) counts[d] = { approved: 0, published: 0, rejected: 0, pending: 0 };
    let cursor = null;
    try {
      for (let page = 0; page < 10; page++) {
        const p = new URLSearchParams({ from: days[0] + 'T00:00:00Z', limit: '200' });
        if (cursor) p.set('cursor', cursor);
        const res = await api('GET', '/v1/decisions?' + p.toString());
        for (const d of res.items) {
          const day = d.created_at.slice(0, 10);
          if (counts[day] && counts[day][d.to_status] !== undefined) counts[day][d.to_status]++;
        }
        cursor = res.next_cursor;
        if (!cursor) break;
      }
    } catch (e) { fig.appendChild(el('p', 'error', e.message)); return; }
    const W = 560; const H = 220; const L = 36; const B = 30;
    const keys = ['approved', 'published', 'rejected', 'pending'];
    const max = Math.max(1, ...days.map((d) => keys.reduce((s, k) => s + counts[d][k], 0)));
    const s = svg('svg', { viewBox: `0 0 ${W} ${H + 24}`, role: 'img', id: 'svg-days' });
    const bw = (W - L - 10) / days.length;
    s.appendChild(svg('line', { x1: L, y1: H - B, x2: W - 5, y2: H - B, stroke: '#888' }));
    s.appendChild(svg('text', { x: 2, y: 12, 'font-size': 10 }, max));
    days.forEach((d, i) => {
      let y = H - B;
      for (const k of keys) {
        const h = (counts[d][k] / max) * (H - B - 16);
        if (h > 0) {
          const r = svg('rect', { x: L + i * bw + 2, y: y - h, width: bw - 4, height: h, fill: COLORS[k] });
          r.appendChild(svg('title', {}, d + ' ' + t('out.' + k) + ' : ' + counts[d][k]));
          s.appendChild(r);
          y -= h;
        }
      }
      if (i % 2 === 1) s.appendChild(svg('text', { x: L + i * bw + 2, y: H - B + 14, 'font-size': 10 }, d.slice(5)));
    });
    keys.forEach((k, i) => {
      s.appendChild(svg('rect', { x: L + i * 120, y: H + 6, width: 10, height: 10, fill: COLORS[k] }));
      s.appendChild(svg('text', { x: L + i * 120 + 14, y: H + 15, 'font-size': 11 }, t('out.' + k)));
    });
    fig.appendChild(s);
  }
  async function drawHistogram() {
    const fig = $('chart-hist');
    clear(fig);
    const scores = [];
    let th = null;
    try {
      th = await api('GET', '/console/api/thresholds');
      let cursor = null;
      for (let page = 0; page < 10; page++) {
        const p = new URLSearchParams({ limit: '200', order: 'age' });
        if (cursor) p.set('cursor', cursor);
        const res = await api('GET', '/v1/queues/pending?' + p.toString());
        for (const it of res.items) if (it.comment.score_toxicity != null) scores.push(it.comment.score_toxicity);
        cursor = res.next_cursor;
        if (!cursor) break;
      }
    } catch (e) { fig.appendChild(el('p', 'error', e.message)); return; }
    fig.appendChild(el('figcaption', null, t('dash.hist', { n: scores.length })));
    const bins = new Array(20).fill(0);
    for (const v of scores) bins[Math.min(19, Math.max(0, Math.floor(v * 20)))]++;
    const W = 560; const H = 220; const L = 36; const B = 30;
    const max = Math.max(1, ...bins);
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', id: 'svg-hist' });
    const x = (v) => L + v * (W - L - 10);
    bins.forEach((n, i) => {
      const h = (n / max) * (H - B - 20);
      const r = svg('rect', { x: x(i / 20) + 1, y: H - B - h, width: (W - L - 10) / 20 - 2, height: h, fill: '#1f5fbf' });
      r.appendChild(svg('title', {}, (i / 20).toFixed(2) + '–' + ((i + 1) / 20).toFixed(2) + ' : ' + n));
      s.appendChild(r);
    });
    s.appendChild(svg('line', { x1: L, y1: H - B, x2: W - 5, y2: H - B, stroke: '#888' }));
    for (let v = 0; v <= 1.0001; v += 0.25) s.appendChild(svg('text', { x: x(v) - 8, y: H - B + 14, 'font-size': 10 }, v.toFixed(2)));
    s.appendChild(svg('text', { x: 2, y: 12, 'font-size': 10 }, max));
    if (th && th.toxicity) {
      for (const [k, color] of [['review', '#b26a00'], ['reject', '#c62828']]) {
        const v = th.toxicity[k];
        if (v == null || v > 1) continue;
        s.appendChild(svg('line', { x1: x(v), y1: 8, x2: x(v), y2: H - B, stroke: color, 'stroke-width': 2, 'stroke-dasharray': '5 3', class: 'threshold' }));
        const right = x(v) > W - 110;
        s.appendChild(svg('text', { x: right ? x(v) - 3 : x(v) + 3, y: 18 + (k === 'reject' ? 12 : 0), 'font-size': 11, fill: color, 'text-anchor': right ? 'end' : 'start' }, t('dash.' + k) + ' ' + v.toFixed(3)));
      }
    }
    fig.appendChild(s);
  }
  async function drawMedian() {
    const fig = $('chart-median');
    clear(fig);
    if (!S.session || S.session.role !== 'admin') { fig.hidden = true; return; }
    fig.hidden = false;
    fig.appendChild(el('figcaption', null, t('dash.median')));
    try {
      const to = new Date(Date.now() + 60000);
      const from = new Date(to.getTime() - 30 * 86400000);
      const p = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
      const tr = await api('GET', '/v1/transparency?' + p.toString());
      const secs = tr && tr.notices ? tr.notices.median_seconds_to_action : null;
      if (secs == null) { fig.appendChild(el('p', 'muted', t('dash.medianNone'))); return; }
      const hours = secs / 3600;
      fig.appendChild(el('p', 'big', duration(secs)));
      const s = svg('svg', { viewBox: '0 0 400 40', role: 'img', id: 'svg-median' });
      const frac = Math.min(1, hours / 48);
      s.appendChild(svg('rect', { x: 0, y: 10, width: 400, height: 16, fill: '#eef0f3' }));
      s.appendChild(svg('rect', { x: 0, y: 10, width: 400 * frac, height: 16, fill: hours <= 24 ? '#2e7d32' : '#c62828' }));
      s.appendChild(svg('line', { x1: 200, y1: 4, x2: 200, y2: 34, stroke: '#333' }));
      s.appendChild(svg('text', { x: 204, y: 38, 'font-size': 10 }, '24 h'));
      fig.appendChild(s);
    } catch (e) { fig.appendChild(el('p', 'error', e.message)); }
  }

  // ---- author record: history, notes, premod/ban -----------------------------------------------
  function authorPath(suffix) { return '/v1/authors/' + encodeURIComponent(S.author) + (suffix || ''); }
  async function loadAuthor(id) {
    releaseCurrent();
    S.author = id;
    $('author-title').textContent = t('author.title', { id });
    for (const box of ['author-comments', 'author-decisions', 'notes-list']) clear($(box));
    $('note-error').textContent = '';
    let av;
    try { av = await api('GET', authorPath('?comments=' + AUTHOR_COMMENTS)); } catch (e) { fail(e); return; }
    if (S.author !== id) return;
    $('author-title').textContent = t('author.title', { id }) + (av.name ? ' — ' + av.name : '');
    $('author-status').textContent = av.status + (av.status_until ? ' → ' + fmtDate(av.status_until) : '');
    $('author-record').textContent = t('p.record', { a: av.approved, r: av.rejected, p: av.pending, s: av.status });
    for (const c of av.recent) {
      const li = el('li', 'recent-' + c.status);
      li.dataset.id = String(c.id);
      li.appendChild(el('span', 'muted', fmtDate(c.created_at) + ' · #' + c.id + ' · ' + c.status + ' · '));
      li.appendChild(el('span', null, c.excerpt));
      $('author-comments').appendChild(li);
    }
    const decisions = $('author-decisions');
    for (const ac of av.actions) decisions.appendChild(el('li', null, fmtDate(ac.created_at) + ' · ' + ac.actor + ' · ' + ac.from_status + ' → ' + ac.to_status + ' · ' + ac.reason + (ac.note ? ' · ' + ac.note : '')));
    api('GET', '/v1/decisions?limit=200&author=' + encodeURIComponent(id)).then((log) => {
      if (S.author !== id) return;
      for (const d of log.items) decisions.appendChild(el('li', null, fmtDate(d.created_at) + ' · ' + d.actor + ' · #' + d.comment_id + ' · ' + (d.action || d.source) + ' · ' + (d.from_status || '∅') + ' → ' + d.to_status + (d.reason ? ' · ' + d.reason : '')));
    }).catch(fail);
    loadNotes();
  }
  async function loadNotes() {
    const id = S.author;
    let notes;
    try { notes = await api('GET', authorPath('/notes')); } catch (e) { fail(e); return; }
    if (S.author !== id) return;
    const ul = $('notes-list');
    clear(ul);
    if (!notes.items.length) ul.appendChild(el('li', 'muted', t('author.noNotes')));
    for (const n of notes.items) {
      const li = el('li');
      li.dataset.note = String(n.id);
      li.appendChild(el('div', 'body', n.text));
      li.appendChild(el('span', 'muted', n.created_by + ' · ' + fmtDate(n.created_at) + ' '));
      if (n.deletable) {
        const b = el('button', 'note-delete', t('author.noteDelete'));
        b.type = 'button';
        b.addEventListener('click', async () => {
          try { await api('DELETE', authorPath('/notes/' + n.id)); status(t('msg.noteDeleted')); } catch (e) { fail(e); }
          loadNotes();
        });
        li.appendChild(b);
      }
      ul.appendChild(li);
    }
  }
  async function addNote(ev) {
    ev.preventDefault();
    try {
      await api('POST', authorPath('/notes'), { text: $('note-text').value });
      $('note-text').value = '';
      $('note-error').textContent = '';
      status(t('msg.noteAdded'));
      loadNotes();
    } catch (e) { $('note-error').textContent = e.message; }
  }
  function authorStatus(statusValue) {
    openPicker(t('picker.authorReason'), reasonOptions(), async (reason) => {
      try {
        const res = await api('POST', authorPath('/status'), { status: statusValue, reason });
        status(t('msg.author', { id: res.id, s: res.status }));
        loadAuthor(S.author);
        refreshCounts();
      } catch (e) { fail(e); }
    });
  }

  // ---- audit log ------------------------------------------------------------------------------
  function auditQuery() {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData($('audit-filters')).entries()) {
      if (v === '') continue;
      if (k === 'from' || k === 'to') p.set(k, v + (k === 'from' ? 'T00:00:00Z' : 'T23:59:59Z'));
      else p.set(k, v);
    }
    return p;
  }
  async function loadAudit(reset) {
    const p = auditQuery();
    $('audit-csv').href = '/v1/decisions.csv' + (p.toString() ? '?' + p.toString() : '');
    p.set('limit', String(PAGE));
    if (!reset && S.auditCursor) p.set('cursor', S.auditCursor);
    let page;
    try { page = await api('GET', '/v1/decisions?' + p.toString()); } catch (e) { fail(e); return; }
    const body = $('audit-list');
    if (reset) clear(body);
    for (const d of page.items) {
      const tr = el('tr');
      tr.dataset.decision = String(d.id);
      const c = el('td');
      const link = el('a', null, '#' + d.comment_id);
      link.href = '#/queue/' + ({ approved: 'approved', rejected: 'rejected', pending: 'pending', published: 'unmoderated' }[d.to_status] || 'pending');
      c.appendChild(link);
      // where a moderator's decision came from: console or API, and (for admins) the network
      const from = d.origin ? [t('audit.' + d.origin), d.network].filter(Boolean).join(' · ') : '—';
      tr.append(el('td', null, fmtDate(d.created_at)), el('td', 'actor', d.actor + (d.source === 'automated' ? ' (auto)' : '')),
        el('td', 'origin', from), el('td', 'action', d.action || '—'), el('td', null, (d.from_status || '∅') + ' → ' + d.to_status), c,
        el('td', null, [d.reason, d.internal_note].filter(Boolean).join(' · ')));
      body.appendChild(tr);
    }
    if (reset && !page.items.length) { const tr = el('tr'); const td = el('td', 'muted', t('audit.none')); td.colSpan = 7; tr.appendChild(td); body.appendChild(tr); }
    S.auditCursor = page.next_cursor;
    $('audit-more').hidden = !page.next_cursor;
    if (reset) loadChanges(true);
  }
  // the settings log (admins): who changed which setting, when, from where
  async function loadChanges(reset) {
    const box = $('changes-box');
    box.hidden = !S.session || S.session.role !== 'admin';
    if (box.hidden) return;
    const p = new URLSearchParams({ limit: String(PAGE) });
    if (!reset && S.changesCursor) p.set('cursor', S.changesCursor);
    let page;
    try { page = await api('GET', '/v1/site/changes?' + p.toString()); } catch (e) { fail(e); return; }
    const body = $('changes-list');
    if (reset) clear(body);
    for (const c of page.items) {
      const tr = el('tr');
      tr.dataset.change = String(c.id);
      tr.append(el('td', null, fmtDate(c.created_at)), el('td', 'actor', c.actor),
        el('td', 'origin', [c.origin && t('audit.' + c.origin), c.network].filter(Boolean).join(' · ') || '—'),
        el('td', 'setting', t('changes.' + c.setting)), el('td', 'summary', c.summary));
      body.appendChild(tr);
    }
    if (reset && !page.items.length) { const tr = el('tr'); const td = el('td', 'muted', t('changes.none')); td.colSpan = 5; tr.appendChild(td); body.appendChild(tr); }
    S.changesCursor = page.next_cursor;
    $('changes-more').hidden = !page.next_cursor;
  }

  // ---- site settings (admins) -----------------------------------------------------------------
  // A 422 names the field: its message goes next to that field of the form.
  function showFieldError(form, e) {
    for (const n of form.querySelectorAll('[data-error]')) n.textContent = '';
    const spot = e.field && form.querySelector('[data-error="' + CSS.escape(String(e.field).split('.')[0].split('[')[0]) + '"]');
    if (e.status === 422 && spot) { spot.textContent = e.message; status(t('msg.fix'), true); } else fail(e);
  }
  function clearFieldErrors(form) { for (const n of form.querySelectorAll('[data-error]')) n.textContent = ''; }
  // Each form is refilled from the server on its own: saving one never overwrites what the
  // moderator is typing in the other (a slow reply used to refill the thresholds after a site
  // save, over values typed since).
  async function loadSettings() {
    let site;
    loadWords();
    try { site = await api('GET', '/v1/site'); } catch (e) { fail(e); return; }
    fillSite(site);
    await fillThresholds(site);
  }
  function fillSite(site) {
    clearFieldErrors($('site-form'));
    $('set-mode').value = site.moderation_mode;
    $('set-hide').value = site.report_hide_threshold;
    $('set-unscored').value = site.unscored_language;
    $('set-scope').value = (site.territorial_scope || []).join(', ');
    $('set-newauthor').value = String(site.new_author_premod || 0);
    $('set-appeal').value = site.appeal_text || '';
  }
  async function fillThresholds(site) {
    let th = site.thresholds;
    if (!th) { try { th = await api('GET', '/console/api/thresholds'); } catch (_) { th = null; } }
    $('thresholds-info').textContent = site.thresholds ? t('set.own', { m: site.thresholds_model || '?' }) + (site.thresholds_outdated ? ' ' + t('set.outdated') : '') : t('set.modelOnes');
    if (th) {
      $('th-tox-review').value = th.toxicity.review; $('th-tox-reject').value = th.toxicity.reject;
      $('th-spam-review').value = th.spam.review; $('th-spam-reject').value = th.spam.reject;
    }
  }
  // ---- word lists, entry by entry -------------------------------------------------------------------
  const splitTerms = (v) => v.split(',').map((x) => x.trim()).filter(Boolean);
  function actionSelect(value) {
    const sel = el('select', 'words-action');
    sel.setAttribute('aria-label', t('words.action'));
    for (const a of ['flag', 'hold', 'block']) { const o = el('option', null, t('words.' + a)); o.value = a; o.selected = a === value; sel.appendChild(o); }
    return sel;
  }
  async function loadWords() {
    let list;
    try { list = await api('GET', '/v1/site/rules/words'); } catch (e) { fail(e); return; }
    const body = $('words-list');
    clear(body);
    for (const w of list.items) {
      const tr = el('tr');
      tr.dataset.words = w.id;
      const lang = el('input', 'words-lang');
      lang.value = w.lang || '';
      lang.size = 3;
      lang.maxLength = 3;
      lang.setAttribute('aria-label', t('words.lang') + ' ' + w.id);
      const action = actionSelect(w.action);
      const terms = el('input', 'words-terms');
      terms.value = w.terms.join(', ');
      terms.setAttribute('aria-label', t('words.terms') + ' ' + w.id);
      const err = el('span', 'field-error');
      err.setAttribute('role', 'alert');
      const save = el('button', 'words-save', t('words.save'));
      save.type = 'button';
      save.addEventListener('click', async () => {
        err.textContent = '';
        try {
          await api('PATCH', '/v1/site/rules/words/' + encodeURIComponent(w.id), { action: action.value, lang: lang.value.trim() || null, terms: splitTerms(terms.value) });
          status(t('msg.words', { id: w.id }));
        } catch (e) { err.textContent = (e.field ? e.field + ' : ' : '') + e.message; status(t('msg.fix'), true); }
      });
      const remove = el('button', 'words-remove', t('words.remove'));
      remove.type = 'button';
      remove.addEventListener('click', async () => {
        try { await api('DELETE', '/v1/site/rules/words/' + encodeURIComponent(w.id)); status(t('msg.wordsRemoved', { id: w.id })); loadWords(); } catch (e) { fail(e); }
      });
      // A preview of the row as typed, before it is saved; a refusal (a rule file that does not
      // compile: its line and reason) shows by the row, as a refused save does.
      const preview = el('button', 'words-preview', t('bt.preview'));
      preview.type = 'button';
      preview.setAttribute('aria-label', t('bt.previewOf', { id: w.id }));
      preview.addEventListener('click', () => {
        err.textContent = '';
        const entry = { action: action.value, lang: lang.value.trim() || null, terms: splitTerms(terms.value) };
        previewWords({ change: w.id, set: entry }, () => t('bt.what.change', { id: w.id }), (e) => {
          if (e.status === 422 || e.status === 404) { err.textContent = (e.field ? e.field + ' : ' : '') + e.message; status(t('msg.fix'), true); } else fail(e);
        });
      });
      const cells = [el('td', 'words-id', w.id), el('td'), el('td'), el('td'), el('td')];
      cells[1].appendChild(lang); cells[2].appendChild(action); cells[3].append(terms, err); cells[4].append(save, preview, remove);
      tr.append(...cells);
      body.appendChild(tr);
    }
  }
  async function addWords(ev) {
    ev.preventDefault();
    const form = $('words-add');
    const body = { id: $('words-new-id').value.trim(), action: $('words-new-action').value, terms: splitTerms($('words-new-terms').value) };
    if ($('words-new-lang').value.trim()) body.lang = $('words-new-lang').value.trim();
    try {
      await api('POST', '/v1/site/rules/words', body);
      clearFieldErrors(form);
      form.reset();
      status(t('msg.words', { id: body.id }));
      loadWords();
    } catch (e) { showFieldError(form, e); }
  }

  // ---- previews: a backtest of a pending change over the last 30 days (admins) -----------------
  // `POST /v1/backtests` with the thresholds typed, or with the rule file as a word-list change
  // would leave it; then `GET /v1/backtests/{id}` every PREVIEW_POLL_MS until it ends (Cancel:
  // `DELETE`). One backtest runs per site at a time: the API's 409 is shown like any error.
  const PREVIEW_POLL_MS = 500;
  const PREVIEW_EXAMPLES = 10;
  const BT_KINDS = ['held', 'published', 'rejected'];
  // The preview shown in each box (by the box's id), redrawn when the language changes.
  const previewRuns = new Map();
  let previewSeq = 0;
  // A POST in flight: a second click would only meet the API's 409.
  let previewStarting = false;
  // French: 0 and 1 take the singular; English: 1 only.
  function plural(n, one, many) { return t((S.lang === 'fr' ? n <= 1 : n === 1) ? one : many); }
  const commentsWord = (n) => plural(n, 'bt.comment1', 'bt.commentN');
  function pct(v) {
    if (v == null) return '—';
    return t('bt.pct', { p: (v * 100).toLocaleString(S.lang === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: 1 }) });
  }
  // "…this change would have held 41 more comments, 33 of which moderators rejected and 5
  // approved; published 3 more comments, 2 of which moderators rejected": one clause per kind
  // of difference that is not zero, moderators' decisions when there are any.
  function previewSentence(r) {
    if (!r || !r.comments) return t('bt.none');
    const parts = [];
    for (const kind of BT_KINDS) {
      const d = r['newly_' + kind];
      if (!d || !d.count) continue;
      const rej = d.moderators_rejected || 0;
      const app = d.moderators_approved || 0;
      const mods = rej && app ? 'bt.mods' : rej ? 'bt.modsR' : app ? 'bt.modsA' : 'bt.modsNone';
      parts.push(t('bt.' + kind, { n: d.count, cm: commentsWord(d.count) })
        + t(mods, { r: rej, a: app, rj: plural(rej, 'bt.rej1', 'bt.rejN'), ap: plural(app, 'bt.app1', 'bt.appN') }));
    }
    if (!parts.length) return t('bt.same', { c: r.comments, cm: commentsWord(r.comments) });
    return t('bt.lead') + parts.join(t('bt.sep')) + '.';
  }
  // Precision and recall against moderators' decisions, before → after (when there are any).
  function previewQuality(r) {
    const h = r && r.human;
    if (!h || !h.after || !h.after.labelled) return '';
    return t('bt.quality', { l: h.after.labelled, cm: commentsWord(h.after.labelled),
      p0: pct(h.before.precision), p1: pct(h.after.precision), r0: pct(h.before.recall), r1: pct(h.after.recall) });
  }
  // One comment the change moves: outcomes, scores, moderators' decision, the new reasons, and a
  // button showing its text (results carry ids, not texts).
  function previewExample(x) {
    const li = el('li', 'bt-example');
    li.dataset.comment = String(x.comment_id);
    const mods = x.moderators === 'rejected' ? t('bt.modRejected') : x.moderators === 'approved' ? t('bt.modApproved') : t('bt.modNone');
    li.appendChild(el('div', null, '#' + x.comment_id + ' · ' + t('bt.out.' + x.before) + ' → ' + t('bt.out.' + x.after)
      + ' · ' + t('bt.tox') + ' ' + Number(x.toxicity).toFixed(2) + ' · spam ' + Number(x.spam).toFixed(2)
      + ' · ' + (x.language || '?') + ' · ' + mods));
    if ((x.reasons || []).length) {
      const ul = el('ul', 'plain bt-reasons');
      for (const r of x.reasons) ul.appendChild(el('li', null, r));
      li.appendChild(ul);
    }
    if ((x.rules || []).length) li.appendChild(el('div', 'muted', t('bt.rules', { r: x.rules.join(', ') })));
    const body = el('div', 'body');
    body.hidden = true;
    body.id = 'bt-comment-' + (++previewSeq);
    const show = el('button', 'bt-show', t('bt.show', { id: x.comment_id }));
    show.type = 'button';
    show.setAttribute('aria-expanded', 'false');
    show.setAttribute('aria-controls', body.id);
    show.addEventListener('click', async () => {
      const open = body.hidden;
      if (open && !body.dataset.loaded) {
        try { body.textContent = (await api('GET', '/v1/comments/' + x.comment_id)).body; } catch (e) { fail(e); return; }
        body.dataset.loaded = '1';
      }
      body.hidden = !open;
      show.setAttribute('aria-expanded', String(open));
      show.textContent = t(open ? 'bt.hide' : 'bt.show', { id: x.comment_id });
    });
    li.append(show, body);
    return li;
  }
  // Draws a preview in its box: what is tried, then its progress and Cancel, or its outcome.
  function drawPreview(run) {
    const box = run.box;
    clear(box);
    box.hidden = false;
    if (run.id) box.dataset.backtest = String(run.id); else delete box.dataset.backtest;
    const v = {
      runBox: el('div', 'bt-run'), text: el('span', 'bt-progress'), bar: el('progress'),
      cancel: el('button', 'bt-cancel', t('bt.cancel')), sentence: el('p', 'bt-sentence'),
      quality: el('p', 'bt-quality'), examples: el('div', 'bt-examples'),
    };
    run.view = v;
    v.cancel.type = 'button';
    v.cancel.addEventListener('click', () => cancelPreview(run));
    v.bar.setAttribute('aria-label', t('bt.preview'));
    v.sentence.tabIndex = -1;
    v.runBox.append(v.text, v.bar, v.cancel);
    box.append(el('p', 'muted bt-what', run.caption()), v.runBox, v.sentence, v.quality, v.examples);
    const job = run.job;
    if (!run.ended) { drawProgress(run); return; }
    v.runBox.remove();
    if (job.status === 'done') {
      v.sentence.textContent = previewSentence(job.result);
      v.quality.textContent = previewQuality(job.result);
      const r = job.result || {};
      for (const kind of BT_KINDS) {
        const all = (r.examples && r.examples['newly_' + kind]) || [];
        if (!all.length) continue;
        const total = (r['newly_' + kind] || {}).count || all.length;
        v.examples.appendChild(el('h4', null, t('bt.ex.' + kind)
          + (total > PREVIEW_EXAMPLES ? ' (' + t('bt.exMore', { n: PREVIEW_EXAMPLES, t: total }) + ')' : '')));
        const ul = el('ul', 'plain bt-list');
        ul.dataset.kind = kind;
        for (const x of all.slice(0, PREVIEW_EXAMPLES)) ul.appendChild(previewExample(x));
        v.examples.appendChild(ul);
      }
    } else if (job.status === 'cancelled') {
      v.sentence.textContent = t('bt.cancelled');
    } else {
      v.sentence.classList.add('error');
      v.sentence.textContent = t('bt.failed', { e: job.error || job.status });
    }
  }
  function drawProgress(run) {
    const v = run.view;
    const p = run.job.progress || { done: 0, total: 0 };
    const running = run.job.status === 'running' && p.total > 0;
    v.text.textContent = running ? t('bt.running', { d: p.done, t: p.total }) : t('bt.queued');
    if (running) { v.bar.max = p.total; v.bar.value = p.done; } else v.bar.removeAttribute('value');
  }
  // The next state of a preview: progress (and the next poll) or its end.
  function followPreview(run, job) {
    if (run.ended || previewRuns.get(run.box.id) !== run) { run.ended = true; return; }
    run.job = job;
    if (job.status === 'queued' || job.status === 'running') {
      drawProgress(run);
      run.timer = setTimeout(() => pollPreview(run), PREVIEW_POLL_MS);
      return;
    }
    endPreview(run);
  }
  function endPreview(run) {
    run.ended = true;
    if (run.timer) { clearTimeout(run.timer); run.timer = null; }
    const hadFocus = run.box.contains(document.activeElement);
    drawPreview(run);
    if (hadFocus) run.view.sentence.focus();
    const sentence = run.view.sentence.textContent;
    status(sentence, run.job.status === 'failed');
  }
  async function pollPreview(run) {
    run.timer = null;
    if (run.ended || !S.session) return;
    let job;
    try { job = await api('GET', '/v1/backtests/' + run.id); } catch (e) {
      if (!run.ended && previewRuns.get(run.box.id) === run) { run.job = { status: 'failed', error: e.message }; endPreview(run); }
      fail(e);
      return;
    }
    followPreview(run, job);
  }
  async function cancelPreview(run) {
    if (run.ended) return;
    try {
      followPreview(run, await api('DELETE', '/v1/backtests/' + run.id));
    } catch (e) {
      // 409: it has just ended; the next poll shows how.
      if (e.status !== 409) fail(e);
    }
  }
  // Starts a backtest of `request` shown in `box`; `caption()` says what is tried; `onError(e)`
  // shows a refusal (409, 422) where the console shows that form's errors.
  async function startPreview(box, request, caption, onError) {
    if (previewStarting) return;
    previewStarting = true;
    let job;
    try { job = await api('POST', '/v1/backtests', request); } catch (e) {
      previewStarting = false;
      // Only a period without comments is refused on `from` (the console sends no period).
      if (e.status === 422 && e.field === 'from') {
        const run = { id: null, box, caption, ended: true, job: { status: 'done', result: { comments: 0 } } };
        previewRuns.set(box.id, run);
        endPreview(run);
      } else onError(e);
      return;
    }
    previewStarting = false;
    const run = { id: job.id, box, caption, job, ended: false, timer: null };
    previewRuns.set(box.id, run);
    drawPreview(run);
    followPreview(run, job);
  }
  function relabelPreviews() {
    for (const run of previewRuns.values()) if (run.view) drawPreview(run);
  }

  function thresholdsBody() {
    const num = (id) => Number($(id).value);
    return {
      toxicity: { review: num('th-tox-review'), reject: num('th-tox-reject') },
      spam: { review: num('th-spam-review'), reject: num('th-spam-reject') },
    };
  }
  function previewThresholds() {
    const form = $('thresholds-form');
    clearFieldErrors(form);
    const th = thresholdsBody();
    const caption = () => t('bt.what.thresholds', { tr: th.toxicity.review, tj: th.toxicity.reject, sr: th.spam.review, sj: th.spam.reject });
    // A bound is refused on `thresholds.toxicity`: shown by the form's `toxicity` field.
    startPreview($('thresholds-backtest'), { thresholds: th }, caption, (e) => showFieldError(form,
      { status: e.status, field: e.field && String(e.field).replace(/^thresholds\./, ''), message: e.message }));
  }

  // ---- a pending word-list change, previewed --------------------------------------------------
  // The API applies the edit to the site's rule file as saving it would (the same checks, 404,
  // 409 and 422 by field), backtests the result and saves nothing. `edit`: {add: entry} or
  // {change: id, set: {action, lang, terms}}.
  function previewWords(edit, caption, onError) {
    startPreview($('words-backtest'), { words: edit }, caption, onError);
  }
  function previewNewWords() {
    const form = $('words-add');
    clearFieldErrors(form);
    const entry = { id: $('words-new-id').value.trim(), action: $('words-new-action').value,
      lang: $('words-new-lang').value.trim() || null, terms: splitTerms($('words-new-terms').value) };
    // A refusal is shown by its field (a rule file that no longer compiles: by the terms).
    previewWords({ add: entry }, () => t('bt.what.add', { id: entry.id }), (e) => showFieldError(form, e));
  }

  async function saveSite(ev) {
    ev.preventDefault();
    const form = $('site-form');
    const hide = $('set-hide').value;
    const body = {
      moderation_mode: $('set-mode').value, unscored_language: $('set-unscored').value,
      report_hide_threshold: hide === '' ? null : Number(hide),
      territorial_scope: $('set-scope').value.split(',').map((x) => x.trim()).filter(Boolean),
      // a value the browser cannot read as a number is sent as typed: the API names the field
      new_author_premod: $('set-newauthor').value === '' ? 0 : (Number.isFinite(Number($('set-newauthor').value)) ? Number($('set-newauthor').value) : $('set-newauthor').value),
      appeal_text: $('set-appeal').value,
    };
    if (body.report_hide_threshold === null) delete body.report_hide_threshold;
    try { fillSite(await api('PATCH', '/v1/site', body)); status(t('msg.saved')); } catch (e) { showFieldError(form, e); }
  }
  async function saveThresholds(ev, useModel) {
    if (ev) ev.preventDefault();
    const form = $('thresholds-form');
    const body = useModel ? null : thresholdsBody();
    try {
      await api('PUT', '/v1/site/thresholds', body);
      clearFieldErrors(form);
      await fillThresholds(await api('GET', '/v1/site'));
      status(t('msg.saved'));
    } catch (e) { showFieldError(form, e); }
  }
  async function saveThread(ev) {
    ev.preventDefault();
    const form = $('thread-form');
    const id = $('thread-id').value.trim();
    const body = {};
    if ($('thread-status').value) body.status = $('thread-status').value;
    const mode = $('thread-mode').value;
    if (mode) body.moderation_mode = mode === 'site' ? null : mode;
    if ($('thread-title').value.trim()) body.title = $('thread-title').value.trim();
    if ($('thread-url').value.trim()) body.url = $('thread-url').value.trim();
    if (!id) { showFieldError(form, { status: 422, field: 'thread_id', message: t('msg.fix') }); return; }
    try {
      const res = await fetchThread(id, body);
      clearFieldErrors(form);
      $('thread-result').textContent = t(res.created ? 'msg.threadCreated' : 'msg.threadSaved', { id: res.thread.id }) + ' (' + res.thread.status + ', ' + (res.thread.moderation_mode || t('set.siteMode')) + ')';
    } catch (e) { showFieldError(form, e); }
  }
  // PATCH a thread, telling a creation (201) from an update.
  async function fetchThread(id, body) {
    const res = await fetch('/v1/threads/' + encodeURIComponent(id), {
      method: 'PATCH', credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': S.session.csrf_token },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new HttpError(res.status, data, null);
    return { created: res.status === 201, thread: data };
  }

  async function signOutEverywhere() {
    try {
      stopRenew();
      const r = await api('DELETE', '/v1/sessions');
      S.claimed = null;
      showSignin(t('msg.signedOutAll', { n: r ? r.ended : 0 }));
    } catch (e) { fail(e); }
  }

  // ---- start --------------------------------------------------------------------------------
  function wire() {
    $('signin-form').addEventListener('submit', signIn);
    $('signin-account-form').addEventListener('submit', signInAccount);
    $('invitation-form').addEventListener('submit', setPassword);
    $('invite-form').addEventListener('submit', invite);
    $('btn-2fa').addEventListener('click', openTotp);
    wireAlerts();
    $('totp-start').addEventListener('click', startTotp);
    $('totp-confirm').addEventListener('click', confirmTotp);
    $('totp-off-submit').addEventListener('click', disableTotp);
    $('totp-close').addEventListener('click', () => { $('totp').hidden = true; $('totp-secret').value = ''; $('totp-url').value = ''; clear($('totp-codes')); });
    $('btn-signout').addEventListener('click', signOut);
    $('btn-signout-all').addEventListener('click', signOutEverywhere);
    $('note-form').addEventListener('submit', addNote);
    $('author-premod').addEventListener('click', () => authorStatus('premod'));
    $('author-ban').addEventListener('click', () => authorStatus('banned'));
    $('author-active').addEventListener('click', () => authorStatus('active'));
    $('audit-filters').addEventListener('submit', (e) => { e.preventDefault(); loadAudit(true); });
    $('audit-more').addEventListener('click', () => loadAudit(false));
    $('changes-more').addEventListener('click', () => loadChanges(false));
    $('site-form').addEventListener('submit', saveSite);
    $('thresholds-form').addEventListener('submit', (e) => saveThresholds(e, false));
    $('thresholds-model').addEventListener('click', () => saveThresholds(null, true));
    $('thresholds-preview').addEventListener('click', previewThresholds);
    $('words-new-preview').addEventListener('click', previewNewWords);
    $('thread-form').addEventListener('submit', saveThread);
    $('words-add').addEventListener('submit', addWords);
    $('btn-lang').addEventListener('click', toggleLang);
    $('btn-help').addEventListener('click', () => toggleHelp());
    $('btn-help-close').addEventListener('click', () => toggleHelp(false));
    $('filters').addEventListener('submit', (e) => { e.preventDefault(); loadQueue(true); });
    $('btn-more').addEventListener('click', () => loadQueue(false));
    $('btn-approve').addEventListener('click', () => decide('approve', null, performance.now()));
    $('btn-reject').addEventListener('click', () => askReject(performance.now()));
    $('btn-escalate').addEventListener('click', () => decide('escalate', null, performance.now()));
    $('btn-restore').addEventListener('click', () => decide('restore', null, performance.now()));
    $('btn-author').addEventListener('click', askAuthor);
    $('btn-select').addEventListener('click', () => toggleSelect());
    $('btn-bulk').addEventListener('click', askBulk);
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', route);
    window.addEventListener('pagehide', () => {
      if (S.claimed && S.session) api('DELETE', '/v1/comments/' + S.claimed + '/claim', undefined, { keepalive: true, noRedirect: true }).catch(() => {});
    });
  }

  async function boot() {
    wire();
    applyI18n();
    const token = invitationToken();
    if (token) { showInvitation(token); return; }
    try {
      const s = await api('GET', '/console/session', undefined, { noRedirect: true });
      start(s);
    } catch (_) { showSignin(''); }
  }
  // ---- e-mail alerts of the signed-in account (in the 2FA / account overlay) ------------------
  // One block: its own words, its own form, built on first opening; hooked in wire().
  const ALERT_WORDS = {
    fr: { title: 'Alertes par e-mail', to: 'Envoyées à', off: 'Aucun serveur SMTP configuré : rien ne sera envoyé.',
      lang: 'Langue des messages', report: 'Signalement de contenu illicite, par un signaleur de confiance ou une autorité',
      wait: 'File en attente depuis plus de (minutes, vide : jamais)', digest: 'Résumé quotidien à (heure UTC, vide : aucun)',
      save: 'Enregistrer', test: 'Envoyer un message d’essai', saved: 'Alertes enregistrées.', queued: 'Message en file d’envoi.' },
    en: { title: 'E-mail alerts', to: 'Sent to', off: 'No SMTP server configured: nothing will be sent.',
      lang: 'Language of the messages', report: 'Report of illegal content, by a trusted flagger or an authority',
      wait: 'Queue waiting for more than (minutes, empty: never)', digest: 'Daily digest at (UTC hour, empty: none)',
      save: 'Save', test: 'Send a test message', saved: 'Alerts saved.', queued: 'Message queued.' },
  };
  function wireAlerts() {
    $('btn-2fa').addEventListener('click', openAlerts);
  }
  async function openAlerts() {
    const w = ALERT_WORDS[S.lang] || ALERT_WORDS.fr;
    let box = $('alerts');
    if (box) box.remove();
    box = el('section', 'alerts');
    box.id = 'alerts';
    box.appendChild(el('h3', null, w.title));
    const note = el('p', 'muted');
    const msg = el('p', null);
    msg.id = 'alerts-message';
    msg.setAttribute('role', 'status');
    const field = (label, input) => {
      const l = el('label', null, label);
      l.htmlFor = input.id;
      box.appendChild(l);
      box.appendChild(input);
      return input;
    };
    const lang = document.createElement('select');
    lang.id = 'alerts-language';
    for (const v of ['fr', 'en']) { const o = el('option', null, v === 'fr' ? 'Français' : 'English'); o.value = v; lang.appendChild(o); }
    const report = document.createElement('input');
    report.type = 'checkbox';
    report.id = 'alerts-report';
    const wait = document.createElement('input');
    wait.type = 'number'; wait.min = '1'; wait.max = '10080'; wait.id = 'alerts-wait';
    const digest = document.createElement('input');
    digest.type = 'number'; digest.min = '0'; digest.max = '23'; digest.id = 'alerts-digest';
    box.appendChild(note);
    field(w.lang, lang);
    field(w.report, report);
    field(w.wait, wait);
    field(w.digest, digest);
    const save = el('button', null, w.save);
    save.type = 'button'; save.id = 'alerts-save';
    const test = el('button', null, w.test);
    test.type = 'button'; test.id = 'alerts-test';
    box.appendChild(save);
    box.appendChild(test);
    box.appendChild(msg);
    $('totp-error').after(box);
    const num = (input) => (input.value === '' ? null : Number(input.value));
    try {
      const a = await api('GET', '/v1/account/alerts');
      lang.value = a.language;
      report.checked = a.on_report;
      wait.value = a.queue_wait_minutes === null ? '' : String(a.queue_wait_minutes);
      digest.value = a.digest_hour === null ? '' : String(a.digest_hour);
      note.textContent = w.to + ' ' + a.email + (a.smtp_configured ? '' : ' · ' + w.off);
      test.disabled = !a.smtp_configured;
    } catch (e) { box.remove(); return; } // an API key has no alerts
    save.addEventListener('click', async () => {
      try {
        await api('PUT', '/v1/account/alerts', { language: lang.value, on_report: report.checked, queue_wait_minutes: num(wait), digest_hour: num(digest) });
        msg.className = ''; msg.textContent = w.saved;
      } catch (e) { msg.className = 'error'; msg.textContent = e.message; }
    });
    test.addEventListener('click', async () => {
      try { await api('POST', '/v1/account/alerts/test', { kind: 'test' }); msg.className = ''; msg.textContent = w.queued; }
      catch (e) { msg.className = 'error'; msg.textContent = e.message; }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else boot();
})();
