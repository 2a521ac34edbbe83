// Russian and English texts, plural rules, and dates in the account's timezone.

const STORAGE_KEY = "leadrouter.lang";
export const LANGS = ["ru", "en"];

const ru = {
  "app.name": "Распределение заявок",
  "app.skip": "К содержимому",
  "lang.label": "Язык",
  "nav.label": "Разделы",
  "nav.lead": "Получить заявку",
  "nav.settings": "Группы и лимиты",
  "nav.schedules": "Графики",
  "nav.templates": "Шаблоны",
  "nav.workspace": "Файл настроек",
  "nav.transfer": "Передача заявок",
  "nav.reports": "Отчёты",
  "nav.journal": "Журнал решений",
  "signout": "Выйти",
  "role.ADMIN": "руководитель",
  "role.MANAGER": "менеджер",
  "role.VIEWER": "наблюдатель",
  "role.PARTNER": "партнёр",
  "loading": "Загрузка…",
  "error.generic": "Что-то пошло не так: {message}",
  "error.network": "Сервер не отвечает. Проверьте соединение и попробуйте ещё раз.",
  "error.session": "Сессия истекла или токен недействителен. Войдите снова.",
  "retry": "Повторить",
  "save": "Сохранить",
  "saved": "Сохранено",
  "cancel": "Отмена",
  "yes": "да",
  "no": "нет",
  "none": "—",
  "live.on": "Обновляется в реальном времени",
  "live.off": "Нет связи для обновлений, переподключение…",
  "live.updated": "Обновлено в {time}",

  "signin.title": "Вход",
  "signin.intro": "Вставьте токен доступа. Команда «make run» печатает демо-токены и ссылки для входа; токен выдаёт и «leadrouter token --user ID --role ROLE». В amoCRM вход выполняется автоматически через виджет.",
  "signin.token": "Токен доступа",
  "signin.submit": "Войти",
  "signin.empty": "Вставьте токен.",
  "signin.bad": "Токен не принят: {message}",

  "lead.title": "Получить заявку",
  "lead.hello": "Здравствуйте, {name}",
  "lead.group": "Группа",
  "lead.noGroups": "Вы не состоите ни в одной группе распределения. Обратитесь к руководителю.",
  "lead.button": "Получить заявку",
  "lead.pressing": "Получаем…",
  "lead.pool": "{count, plural, one {В очереди # заявка} few {В очереди # заявки} many {В очереди # заявок} other {В очереди # заявки}}",
  "lead.poolEmpty": "Сейчас очередь пуста",
  "lead.canClaim": "Все лимиты в норме — можно брать заявку.",
  "lead.blocked": "Сейчас заявку получить нельзя:",
  "lead.refused": "Заявка не выдана:",
  "lead.claimed": "Ваша новая заявка",
  "lead.open": "Открыть сделку",
  "lead.history": "История заявки",
  "lead.field.id": "Номер",
  "lead.field.budget": "Бюджет",
  "lead.field.channel": "Источник",
  "lead.field.stage": "Этап",
  "lead.field.created": "Поступила",
  "presence.label": "Я на линии",
  "presence.online": "На линии (ONLINE)",
  "presence.offline": "Не на линии (OFFLINE)",
  "presence.working": "По графику сейчас рабочее время",
  "presence.notWorking": "По графику сейчас нерабочее время",
  "shifts.title": "Мои смены на этой неделе",
  "shifts.none": "На этой неделе смен нет.",

  "reason.interval_minutes": "Слишком рано: с прошлой заявки прошло {value} мин, а интервал — {threshold} мин.",
  "reason.max_active": "Слишком много активных сделок: {value}, лимит — {threshold}.",
  "reason.max_new_today": "Новых сделок за сегодня: {value}, дневной лимит — {threshold}.",
  "reason.max_overdue_tasks": "Просроченных задач: {value}, допустимо не больше {threshold}.",
  "reason.max_overdue_days": "Есть задача, просроченная на {value} дн., допустимо не больше {threshold} дн.",
  "reason.days_without_sales": "Нет продаж за последние {threshold} дн.",
  "reason.max_lost_today": "Закрыто как «не реализовано» сегодня: {value}, допустимо не больше {threshold}.",
  "reason.max_lost_month": "Закрыто как «не реализовано» в этом месяце: {value}, допустимо не больше {threshold}.",
  "reason.min_sales_last_month": "Продаж за прошлый месяц: {value}, план — {threshold}. В этом месяце уже {period} из {threshold}.",
  "reason.min_key_stage_last_week": "Сделок на ключевом этапе за прошлую неделю: {value}, план — {threshold}. На этой неделе уже {period} из {threshold}.",
  "reason.pool_empty": "Свободных заявок сейчас нет.",
  "reason.not_a_member": "Вы не состоите в этой группе.",
  "reason.disabled": "Кнопка для вас в этой группе выключена.",
  "reason.off_duty": "Вы сейчас не на смене.",
  "reason.unknown": "Отказ: {code}",
  "reason.value": "значение {value}, порог {threshold}",
  "countdown.in": "Снимется через {left} — {at}",
  "countdown.now": "Ограничение снято — можно пробовать снова.",
  "countdown.never": "Снимется только после вашей работы по сделкам и задачам.",
  "countdown.period": "Пересчёт {at}, если план текущего периода будет выполнен.",

  "limit.interval_minutes": "Интервал, мин",
  "limit.max_active": "Активные сделки",
  "limit.max_new_today": "Новых за сегодня",
  "limit.max_overdue_tasks": "Просроченные задачи",
  "limit.max_overdue_days": "Просроченных дней",
  "limit.days_without_sales": "Дней без продаж",
  "limit.max_lost_today": "Закрыто за день",
  "limit.max_lost_month": "Закрыто за месяц",
  "limit.min_sales_last_month": "Продаж за прошлый месяц",
  "limit.min_key_stage_last_week": "КЭВ за прошлую неделю",

  "settings.title": "Группы и лимиты",
  "settings.group": "Группа",
  "settings.group.settings": "Настройки группы",
  "settings.source": "Этапы, с которых раздаются сделки",
  "settings.target": "Этап, куда перемещается выданная сделка",
  "settings.excluded": "Этапы, которые не участвуют в лимитах",
  "settings.key": "Ключевой этап воронки (КЭВ)",
  "settings.sale": "Продажи считаются на этапах",
  "settings.loss": "Отказы считаются на этапах",
  "settings.exchange": "Биржа лидов (ответственные, с которых раздаются сделки)",
  "settings.cascade": "Менять ответственного в связанных задачах, контактах и компаниях",
  "settings.allWon": "все этапы «Успешно реализовано»",
  "settings.allLost": "все этапы «Закрыто и не реализовано»",
  "settings.limits": "Лимиты менеджеров",
  "settings.limits.help": "Галочка — менеджер видит кнопку и получает заявки с учётом лимитов. Пустое поле — лимит выключен.",
  "settings.member": "Менеджер",
  "settings.enabled": "Кнопка",
  "settings.enabledFor": "Кнопка для {name}",
  "settings.limitFor": "{limit} — {name}",
  "settings.now": "Сейчас",
  "settings.eligible": "Может брать",
  "settings.blockedBy": "Блокирует: {limits}",
  "settings.offButton": "Кнопка выключена",
  "settings.notMember": "Не в группе",
  "settings.saveRow": "Сохранить строку {name}",
  "settings.rowSaved": "Лимиты {name} сохранены",
  "settings.rowProblems": "Исправьте поля в строке {name}",
  "settings.mustBeNumber": "Целое число от 0, или пусто",

  "schedules.title": "Графики работы",
  "schedules.week": "Неделя {from} — {to}",
  "schedules.prev": "Предыдущая неделя",
  "schedules.next": "Следующая неделя",
  "schedules.thisWeek": "Эта неделя",
  "schedules.off": "выходной",
  "schedules.onDuty": "на смене сейчас",
  "schedules.hours": "{hours} ч за неделю",
  "schedules.legend": "Полосы — рабочие интервалы по графику в часовом поясе аккаунта ({tz}); отпуска, больничные и выходные уже вычтены.",

  "templates.title": "Шаблоны распределения",
  "templates.intro": "Какой шаблон принимает заявку в каждый час этой недели и кому она достанется (вес — сколько заявок из круга получает участник).",
  "templates.channel": "Канал",
  "templates.channel.call": "Звонки",
  "templates.channel.form": "Письменные заявки",
  "templates.when": "Когда",
  "templates.template": "Шаблон",
  "templates.participants": "Участники и веса",
  "templates.algorithm": "Алгоритм",
  "templates.nobody": "Ни один шаблон не принимает — заявка ждёт",
  "templates.hold": "если никого нет на смене — ждёт",
  "templates.fallback": "если никого нет на смене — {user}",
  "templates.onDuty": "на смене",

  "workspace.title": "Файл настроек (YAML)",
  "workspace.intro": "Загрузите файл с пользователями, воронками, группами, графиками и шаблонами. Сначала он проверяется целиком; при ошибках ничего не меняется.",
  "workspace.file": "Файл",
  "workspace.text": "Содержимое файла",
  "workspace.check": "Проверить",
  "workspace.apply": "Применить",
  "workspace.ok": "Файл применён.",
  "workspace.okDry": "Ошибок нет — файл можно применять.",
  "workspace.problems": "{count, plural, one {Найдена # ошибка} few {Найдено # ошибки} many {Найдено # ошибок} other {Найдено # ошибки}}; ничего не изменено.",
  "workspace.changes": "Изменения",
  "workspace.noChanges": "Изменений нет.",
  "workspace.path": "Где",
  "workspace.message": "Что не так",
  "transfer.title": "Передача заявок",
  "transfer.intro": "Передайте заявки одного менеджера другому: все или только те, что выбраны фильтром. Сначала посмотрите, что будет передано, затем подтвердите.",
  "transfer.from": "От кого",
  "transfer.to": "Кому",
  "transfer.choose": "Выберите менеджера",
  "transfer.filter": "Какие заявки (пусто — все)",
  "transfer.pipeline": "Воронка",
  "transfer.anyPipeline": "Любая воронка",
  "transfer.stages": "Этапы",
  "transfer.createdFrom": "Созданы с",
  "transfer.createdTo": "Созданы по",
  "transfer.noOpenTask": "Только без открытой задачи",
  "transfer.cascade": "Вместе с открытыми задачами, контактами и компаниями",
  "transfer.cascadeHelp": "Без этого флажка передаются только сами заявки.",
  "transfer.preview": "Посмотреть",
  "transfer.needUsers": "Выберите, от кого и кому передать заявки.",
  "transfer.sameUser": "Передать заявки можно только другому менеджеру.",
  "transfer.counting": "Считаем заявки…",
  "transfer.nothing": "У менеджера {from} нет подходящих заявок: передавать {to} нечего.",
  "transfer.confirmTitle": "Подтвердите передачу",
  "transfer.question": "Передать от {from} к {to}: {leads, plural, one {# заявку} few {# заявки} many {# заявок} other {# заявки}}, {tasks, plural, one {# задачу} few {# задачи} many {# задач} other {# задачи}}, {contacts, plural, one {# контакт} few {# контакта} many {# контактов} other {# контакта}} и {companies, plural, one {# компанию} few {# компании} many {# компаний} other {# компании}}?",
  "transfer.noCascade": "Задачи, контакты и компании остаются у прежнего ответственного.",
  "transfer.confirm": "Подтвердить передачу",
  "transfer.moving": "Передаём заявки…",
  "transfer.failed": "Передача не завершена: {message}. Нажмите «Подтвердить передачу» ещё раз — уже переданное не будет передано повторно.",
  "transfer.doneTitle": "Передача выполнена",
  "transfer.done": "{to} получает от {from}: {leads, plural, one {# заявку} few {# заявки} many {# заявок} other {# заявки}}, {tasks, plural, one {# задачу} few {# задачи} many {# задач} other {# задачи}}, {contacts, plural, one {# контакт} few {# контакта} many {# контактов} other {# контакта}} и {companies, plural, one {# компанию} few {# компании} many {# компаний} other {# компании}}; {batches, plural, one {# пакет} few {# пакета} many {# пакетов} other {# пакета}}.",
  "transfer.skipped": "{count, plural, one {# заявка пропущена} few {# заявки пропущены} many {# заявок пропущено} other {# заявки пропущены}}: уже у получателя или сменила ответственного.",
  "transfer.batch": "Номер передачи: {id}.",
  "transfer.toJournal": "Открыть журнал решений",
  "transfer.count.leads": "Заявки",
  "transfer.count.tasks": "Задачи",
  "transfer.count.contacts": "Контакты",
  "transfer.count.companies": "Компании",
  "nav.leads": "Заявки",
  "leads.title": "Заявки",
  "leads.intro": "Распределите заявки вручную: отфильтруйте список, отметьте заявки или выберите все подходящие, затем назначьте их или передайте от ответственного.",
  "leads.filter": "Фильтр заявок",
  "leads.responsible": "Ответственный",
  "leads.anyone": "Любой",
  "leads.stage": "Этап",
  "leads.anyStage": "Любой этап",
  "leads.show": "Показать заявки",
  "leads.matching": "{count, plural, one {Подходит # заявка} few {Подходят # заявки} many {Подходят # заявок} other {Подходят # заявки}}.",
  "leads.col.name": "Заявка",
  "leads.col.stage": "Этап",
  "leads.col.responsible": "Ответственный",
  "leads.col.created": "Создана",
  "leads.selectPage": "Выбрать заявки на этой странице",
  "leads.selectOne": "Выбрать {name}",
  "leads.previous": "Предыдущая страница",
  "leads.next": "Следующая страница",
  "leads.page": "Страница {page} из {pages}",
  "leads.selected": "{count, plural, one {Выбрана # заявка} few {Выбрано # заявки} many {Выбрано # заявок} other {Выбрано # заявки}}",
  "leads.selectAll": "Выбрать все подходящие заявки: {count}",
  "leads.clear": "Снять выбор",
  "leads.actTitle": "Что сделать с заявками: {count}",
  "leads.action": "Действие",
  "leads.assign": "Назначить",
  "leads.transfer": "Передать",
  "leads.transferFrom": "Передать от {from}",
  "leads.transferHint": "Чтобы передать, сначала отфильтруйте список по ответственному.",
  "leads.receivers": "Кому (нескольким — по кругу в порядке выбора)",
  "leads.order": "({n})",
  "leads.needReceiver": "Выберите, кому отдать заявки.",
  "leads.confirmTitle": "Подтвердите",
  "leads.question": "Передать {to}: {leads, plural, one {# заявку} few {# заявки} many {# заявок} other {# заявки}}, {tasks, plural, one {# задачу} few {# задачи} many {# задач} other {# задачи}}, {contacts, plural, one {# контакт} few {# контакта} many {# контактов} other {# контакта}} и {companies, plural, one {# компанию} few {# компании} many {# компаний} other {# компании}}; {batches, plural, one {# пакет} few {# пакета} many {# пакетов} other {# пакета}}?",
  "leads.confirm": "Подтвердить",
  "leads.progress": "Ход выполнения",
  "leads.batch": "Пакет {n} из {of} · {percent} %",
  "leads.batchFailed": "Пакет {n} из {of} не выполнен: {message}. «Повторить» продолжит с этого пакета; уже переданное не будет передано повторно.",
  "leads.done": "{to}: {leads, plural, one {# заявка} few {# заявки} many {# заявок} other {# заявки}}, {tasks, plural, one {# задача} few {# задачи} many {# задач} other {# задачи}}, {contacts, plural, one {# контакт} few {# контакта} many {# контактов} other {# контакта}} и {companies, plural, one {# компания} few {# компании} many {# компаний} other {# компании}}; {batches, plural, one {# пакет} few {# пакета} many {# пакетов} other {# пакета}}.",
  "leads.toReports": "Открыть отчёты",

  "reports.title": "Отчёты",
  "reports.distribution": "Распределение заявок",
  "reports.loss": "Причины отказов",
  "reports.from": "С",
  "reports.to": "По",
  "reports.groups": "Группы",
  "reports.users": "Менеджеры",
  "reports.all": "все",
  "reports.bucket": "Период",
  "reports.bucket.DAY": "по дням",
  "reports.bucket.WEEK": "по неделям",
  "reports.bucket.MONTH": "по месяцам",
  "reports.groupBy": "Группировка",
  "reports.groupBy.NONE": "без группировки",
  "reports.groupBy.GROUP": "по группам",
  "reports.groupBy.MANAGER": "по менеджерам",
  "reports.show": "Показать",
  "reports.csv": "Скачать CSV",
  "reports.claimed": "Кнопкой",
  "reports.pushed": "Автоматически",
  "reports.manual": "Вручную",
  "reports.total": "Всего",
  "reports.manager": "Менеджер",
  "reports.period": "Период",
  "reports.totals": "Всего выдано: {total} (кнопкой {claimed}, автоматически {pushed}, вручную {manual})",
  "reports.empty": "За выбранный период заявок не выдавалось.",
  "reports.byBucket": "По периодам",
  "reports.won": "Успешно",
  "reports.lost": "Отказ",
  "reports.wonPercent": "% успешных",
  "reports.lostPercent": "% отказов",
  "reports.reasons": "Причины отказа",
  "reports.noReason": "без причины",
  "reports.lossTotals": "Закрыто: {won} успешно, {lost} с отказом",
  "reports.name": "Кто",
  "reports.chart": "График: {title}",

  "journal.title": "Журнал решений",
  "journal.when": "Когда",
  "journal.kind": "Тип",
  "journal.outcome": "Итог",
  "journal.actor": "Кто запросил",
  "journal.lead": "Сделка",
  "journal.assignee": "Кому",
  "journal.group": "Группа",
  "journal.more": "Показать ещё",
  "journal.empty": "Решений пока нет.",
  "journal.details": "Подробности",
  "journal.back": "← К журналу",
  "journal.reasons": "Причины",
  "journal.template": "Шаблон",
  "journal.algorithm": "Алгоритм",
  "journal.trace": "Трассировка",
  "journal.decision": "Решение {id}",
  "journal.filterUser": "Менеджер",
  "journal.filterLead": "Сделка",
  "journal.filter": "Фильтр",
  "journal.new": "Новое решение: {text}",
  "kind.claim": "кнопка",
  "kind.push": "автораспределение",
  "kind.manual": "вручную",
  "outcome.claimed": "выдана",
  "outcome.refused": "отказ",
  "outcome.assigned": "назначена",
  "outcome.held": "ждёт",
};

const en = {
  "app.name": "Lead distribution",
  "app.skip": "Skip to content",
  "lang.label": "Language",
  "nav.label": "Sections",
  "nav.lead": "Get lead",
  "nav.settings": "Groups and limits",
  "nav.schedules": "Schedules",
  "nav.templates": "Templates",
  "nav.workspace": "Workspace file",
  "nav.transfer": "Transfer leads",
  "nav.reports": "Reports",
  "nav.journal": "Decision journal",
  "signout": "Sign out",
  "role.ADMIN": "head of sales",
  "role.MANAGER": "manager",
  "role.VIEWER": "viewer",
  "role.PARTNER": "partner",
  "loading": "Loading…",
  "error.generic": "Something went wrong: {message}",
  "error.network": "The server does not answer. Check the connection and try again.",
  "error.session": "The session has expired or the token is not valid. Sign in again.",
  "retry": "Try again",
  "save": "Save",
  "saved": "Saved",
  "cancel": "Cancel",
  "yes": "yes",
  "no": "no",
  "none": "—",
  "live.on": "Updating live",
  "live.off": "No live connection, reconnecting…",
  "live.updated": "Updated at {time}",

  "signin.title": "Sign in",
  "signin.intro": "Paste an access token. “make run” prints demo tokens and links that sign you in; “leadrouter token --user ID --role ROLE” makes one. Inside amoCRM the widget signs you in.",
  "signin.token": "Access token",
  "signin.submit": "Sign in",
  "signin.empty": "Paste a token.",
  "signin.bad": "The token was not accepted: {message}",

  "lead.title": "Get lead",
  "lead.hello": "Hello, {name}",
  "lead.group": "Group",
  "lead.noGroups": "You are not in any distribution group. Ask your head of sales.",
  "lead.button": "Get lead",
  "lead.pressing": "Getting…",
  "lead.pool": "{count, plural, one {# lead waiting} other {# leads waiting}}",
  "lead.poolEmpty": "No leads are waiting right now",
  "lead.canClaim": "Every limit passes: you can take a lead.",
  "lead.blocked": "You cannot take a lead right now:",
  "lead.refused": "No lead this time:",
  "lead.claimed": "Your new lead",
  "lead.open": "Open the deal",
  "lead.history": "History of this lead",
  "lead.field.id": "Number",
  "lead.field.budget": "Budget",
  "lead.field.channel": "Channel",
  "lead.field.stage": "Stage",
  "lead.field.created": "Came in",
  "presence.label": "I am taking leads",
  "presence.online": "ONLINE",
  "presence.offline": "OFFLINE",
  "presence.working": "Your schedule says you are working now",
  "presence.notWorking": "Your schedule says you are off now",
  "shifts.title": "My shifts this week",
  "shifts.none": "No shifts this week.",

  "reason.interval_minutes": "Too soon: {value} min since your last lead, the interval is {threshold} min.",
  "reason.max_active": "Too many active deals: {value}, the limit is {threshold}.",
  "reason.max_new_today": "New deals today: {value}, the daily limit is {threshold}.",
  "reason.max_overdue_tasks": "Overdue tasks: {value}, at most {threshold} allowed.",
  "reason.max_overdue_days": "A task is {value} days overdue, at most {threshold} days allowed.",
  "reason.days_without_sales": "No sales in the last {threshold} days.",
  "reason.max_lost_today": "Closed as lost today: {value}, at most {threshold} allowed.",
  "reason.max_lost_month": "Closed as lost this month: {value}, at most {threshold} allowed.",
  "reason.min_sales_last_month": "Sales last month: {value}, the plan is {threshold}. This month so far: {period} of {threshold}.",
  "reason.min_key_stage_last_week": "Deals moved to the key stage last week: {value}, the plan is {threshold}. This week so far: {period} of {threshold}.",
  "reason.pool_empty": "No leads are waiting right now.",
  "reason.not_a_member": "You are not in this group.",
  "reason.disabled": "The button is switched off for you in this group.",
  "reason.off_duty": "You are off duty.",
  "reason.unknown": "Refused: {code}",
  "reason.value": "value {value}, threshold {threshold}",
  "countdown.in": "Lifts in {left}, {at}",
  "countdown.now": "This limit has lifted: try again.",
  "countdown.never": "Only your own work on deals and tasks lifts this limit.",
  "countdown.period": "Re-evaluated {at} if the plan of the current period is met.",

  "limit.interval_minutes": "Interval, min",
  "limit.max_active": "Active deals",
  "limit.max_new_today": "New today",
  "limit.max_overdue_tasks": "Overdue tasks",
  "limit.max_overdue_days": "Overdue days",
  "limit.days_without_sales": "Days without sales",
  "limit.max_lost_today": "Lost today",
  "limit.max_lost_month": "Lost this month",
  "limit.min_sales_last_month": "Sales last month",
  "limit.min_key_stage_last_week": "Key stage last week",

  "settings.title": "Groups and limits",
  "settings.group": "Group",
  "settings.group.settings": "Group settings",
  "settings.source": "Stages leads are handed out from",
  "settings.target": "Stage a claimed lead moves to",
  "settings.excluded": "Stages that count in no limit",
  "settings.key": "Key stage",
  "settings.sale": "Sales count in stages",
  "settings.loss": "Losses count in stages",
  "settings.exchange": "Lead exchange (users whose leads form the pool)",
  "settings.cascade": "Also reassign the lead's tasks, contacts and companies",
  "settings.allWon": "every won stage",
  "settings.allLost": "every lost stage",
  "settings.limits": "Managers' limits",
  "settings.limits.help": "Ticked: the manager sees the button and gets leads within the limits. An empty field switches that limit off.",
  "settings.member": "Manager",
  "settings.enabled": "Button",
  "settings.enabledFor": "Button for {name}",
  "settings.limitFor": "{limit} for {name}",
  "settings.now": "Now",
  "settings.eligible": "Can take leads",
  "settings.blockedBy": "Blocked by: {limits}",
  "settings.offButton": "Button off",
  "settings.notMember": "Not in the group",
  "settings.saveRow": "Save the row of {name}",
  "settings.rowSaved": "Limits of {name} saved",
  "settings.rowProblems": "Fix the fields in the row of {name}",
  "settings.mustBeNumber": "A whole number from 0, or empty",

  "schedules.title": "Schedules",
  "schedules.week": "Week {from} – {to}",
  "schedules.prev": "Previous week",
  "schedules.next": "Next week",
  "schedules.thisWeek": "This week",
  "schedules.off": "off",
  "schedules.onDuty": "on duty now",
  "schedules.hours": "{hours} h this week",
  "schedules.legend": "Bars are working time per schedule in the account's timezone ({tz}); vacations, sick leave and days off are already taken out.",

  "templates.title": "Distribution templates",
  "templates.intro": "Which template takes a lead at each hour of this week, and who gets it (a weight is how many leads of a round a participant gets).",
  "templates.channel": "Channel",
  "templates.channel.call": "Calls",
  "templates.channel.form": "Written requests",
  "templates.when": "When",
  "templates.template": "Template",
  "templates.participants": "Participants and weights",
  "templates.algorithm": "Algorithm",
  "templates.nobody": "No template takes it: the lead waits",
  "templates.hold": "when nobody is on duty: waits",
  "templates.fallback": "when nobody is on duty: {user}",
  "templates.onDuty": "on duty",

  "workspace.title": "Workspace file (YAML)",
  "workspace.intro": "Upload a file with users, pipelines, groups, schedules and templates. It is checked as a whole first; when it has problems nothing changes.",
  "workspace.file": "File",
  "workspace.text": "File contents",
  "workspace.check": "Check",
  "workspace.apply": "Apply",
  "workspace.ok": "The file is applied.",
  "workspace.okDry": "No problems: the file can be applied.",
  "workspace.problems": "{count, plural, one {# problem found} other {# problems found}}; nothing was changed.",
  "workspace.changes": "Changes",
  "workspace.noChanges": "Nothing changed.",
  "workspace.path": "Where",
  "workspace.message": "What is wrong",
  "transfer.title": "Transfer leads",
  "transfer.intro": "Move one manager's leads to another: all of them, or those the filter picks. Preview what will move first, then confirm.",
  "transfer.from": "From",
  "transfer.to": "To",
  "transfer.choose": "Choose a manager",
  "transfer.filter": "Which leads (empty = all)",
  "transfer.pipeline": "Pipeline",
  "transfer.anyPipeline": "Any pipeline",
  "transfer.stages": "Stages",
  "transfer.createdFrom": "Created from",
  "transfer.createdTo": "Created to",
  "transfer.noOpenTask": "Only leads without an open task",
  "transfer.cascade": "With their open tasks, contacts and companies",
  "transfer.cascadeHelp": "Without it only the leads themselves move.",
  "transfer.preview": "Preview",
  "transfer.needUsers": "Choose whom to move the leads from and to.",
  "transfer.sameUser": "Leads can only move to another manager.",
  "transfer.counting": "Counting leads…",
  "transfer.nothing": "{from} has no matching leads: nothing to move to {to}.",
  "transfer.confirmTitle": "Confirm the transfer",
  "transfer.question": "Move {leads, plural, one {# lead} other {# leads}}, {tasks, plural, one {# task} other {# tasks}}, {contacts, plural, one {# contact} other {# contacts}} and {companies, plural, one {# company} other {# companies}} from {from} to {to}?",
  "transfer.noCascade": "Tasks, contacts and companies stay with their current owner.",
  "transfer.confirm": "Confirm transfer",
  "transfer.moving": "Moving leads…",
  "transfer.failed": "The transfer did not finish: {message}. Press “Confirm transfer” again: nothing already moved moves twice.",
  "transfer.doneTitle": "Transfer done",
  "transfer.done": "Moved {leads, plural, one {# lead} other {# leads}}, {tasks, plural, one {# task} other {# tasks}}, {contacts, plural, one {# contact} other {# contacts}} and {companies, plural, one {# company} other {# companies}} from {from} to {to} in {batches, plural, one {# batch} other {# batches}}.",
  "transfer.skipped": "{count, plural, one {# lead was} other {# leads were}} left alone: already the receiver's, or the owner changed meanwhile.",
  "transfer.batch": "Transfer id: {id}.",
  "transfer.toJournal": "Open the decision journal",
  "transfer.count.leads": "Leads",
  "transfer.count.tasks": "Tasks",
  "transfer.count.contacts": "Contacts",
  "transfer.count.companies": "Companies",
  "nav.leads": "Leads",
  "leads.title": "Leads",
  "leads.intro": "Pick leads by hand: filter the list, tick leads or select every lead that matches, then assign them or transfer them from their responsible.",
  "leads.filter": "Filter leads",
  "leads.responsible": "Responsible",
  "leads.anyone": "Anyone",
  "leads.stage": "Stage",
  "leads.anyStage": "Any stage",
  "leads.show": "Show leads",
  "leads.matching": "{count, plural, one {# lead matches} other {# leads match}}.",
  "leads.col.name": "Lead",
  "leads.col.stage": "Stage",
  "leads.col.responsible": "Responsible",
  "leads.col.created": "Created",
  "leads.selectPage": "Select the leads on this page",
  "leads.selectOne": "Select {name}",
  "leads.previous": "Previous page",
  "leads.next": "Next page",
  "leads.page": "Page {page} of {pages}",
  "leads.selected": "{count, plural, one {# lead selected} other {# leads selected}}",
  "leads.selectAll": "Select all {count} matching leads",
  "leads.clear": "Clear the selection",
  "leads.actTitle": "What to do with {count, plural, one {# lead} other {# leads}}",
  "leads.action": "Action",
  "leads.assign": "Assign",
  "leads.transfer": "Transfer",
  "leads.transferFrom": "Transfer from {from}",
  "leads.transferHint": "To transfer, first filter the list by responsible.",
  "leads.receivers": "To whom (several: round robin in the order picked)",
  "leads.order": "({n})",
  "leads.needReceiver": "Choose whom to give the leads to.",
  "leads.confirmTitle": "Confirm",
  "leads.question": "Move {leads, plural, one {# lead} other {# leads}}, {tasks, plural, one {# task} other {# tasks}}, {contacts, plural, one {# contact} other {# contacts}} and {companies, plural, one {# company} other {# companies}} to {to}, in {batches, plural, one {# batch} other {# batches}}?",
  "leads.confirm": "Confirm",
  "leads.progress": "Progress",
  "leads.batch": "Batch {n} of {of} · {percent} %",
  "leads.batchFailed": "Batch {n} of {of} failed: {message}. Try again to resume from this batch: nothing already moved moves twice.",
  "leads.done": "{to} got {leads, plural, one {# lead} other {# leads}}, {tasks, plural, one {# task} other {# tasks}}, {contacts, plural, one {# contact} other {# contacts}} and {companies, plural, one {# company} other {# companies}} in {batches, plural, one {# batch} other {# batches}}.",
  "leads.toReports": "Open the reports",

  "reports.title": "Reports",
  "reports.distribution": "Lead distribution",
  "reports.loss": "Loss reasons",
  "reports.from": "From",
  "reports.to": "To",
  "reports.groups": "Groups",
  "reports.users": "Managers",
  "reports.all": "all",
  "reports.bucket": "Buckets",
  "reports.bucket.DAY": "by day",
  "reports.bucket.WEEK": "by week",
  "reports.bucket.MONTH": "by month",
  "reports.groupBy": "Group by",
  "reports.groupBy.NONE": "nothing",
  "reports.groupBy.GROUP": "group",
  "reports.groupBy.MANAGER": "manager",
  "reports.show": "Show",
  "reports.csv": "Download CSV",
  "reports.claimed": "By button",
  "reports.pushed": "By push",
  "reports.manual": "By hand",
  "reports.total": "Total",
  "reports.manager": "Manager",
  "reports.period": "Period",
  "reports.totals": "Handed out: {total} (by button {claimed}, by push {pushed}, by hand {manual})",
  "reports.empty": "No leads were handed out in this period.",
  "reports.byBucket": "By period",
  "reports.won": "Won",
  "reports.lost": "Lost",
  "reports.wonPercent": "% won",
  "reports.lostPercent": "% lost",
  "reports.reasons": "Loss reasons",
  "reports.noReason": "no reason",
  "reports.lossTotals": "Closed: {won} won, {lost} lost",
  "reports.name": "Who",
  "reports.chart": "Chart: {title}",

  "journal.title": "Decision journal",
  "journal.when": "When",
  "journal.kind": "Kind",
  "journal.outcome": "Outcome",
  "journal.actor": "Asked by",
  "journal.lead": "Lead",
  "journal.assignee": "Given to",
  "journal.group": "Group",
  "journal.more": "Show more",
  "journal.empty": "No decisions yet.",
  "journal.details": "Details",
  "journal.back": "← Back to the journal",
  "journal.reasons": "Reasons",
  "journal.template": "Template",
  "journal.algorithm": "Algorithm",
  "journal.trace": "Trace",
  "journal.decision": "Decision {id}",
  "journal.filterUser": "Manager",
  "journal.filterLead": "Lead",
  "journal.filter": "Filter",
  "journal.new": "New decision: {text}",
  "kind.claim": "button",
  "kind.push": "push",
  "kind.manual": "by hand",
  "outcome.claimed": "claimed",
  "outcome.refused": "refused",
  "outcome.assigned": "assigned",
  "outcome.held": "waiting",
};

const DICTS = { ru, en };
let current = "en";

export function initialLang(params, embedded) {
  const asked = params.get("lang");
  if (LANGS.includes(asked)) return asked;
  const stored = localStorage.getItem(STORAGE_KEY);
  if (LANGS.includes(stored)) return stored;
  // amoCRM accounts of this product speak Russian first.
  if (embedded) return "ru";
  return (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : "en";
  localStorage.setItem(STORAGE_KEY, current);
  document.documentElement.lang = current;
}

export function lang() {
  return current;
}

export function has(key) {
  return key in DICTS[current];
}

// "{count, plural, one {...} few {...} many {...} other {...}}" with # for the number.
function plural(template, params) {
  return template.replace(
    /\{(\w+), plural, ((?:\w+ \{[^}]*\}\s*)+)\}/g,
    (_, name, forms) => {
      const n = Number(params[name]);
      const cases = {};
      for (const m of forms.matchAll(/(\w+) \{([^}]*)\}/g)) cases[m[1]] = m[2];
      const rule = new Intl.PluralRules(current).select(n);
      return (cases[rule] ?? cases.other ?? "").replaceAll("#", String(n));
    },
  );
}

export function t(key, params = {}) {
  const template = DICTS[current][key] ?? DICTS.en[key] ?? key;
  return plural(template, params).replace(/\{(\w+)\}/g, (m, name) =>
    name in params ? String(params[name]) : m,
  );
}

// --- Dates and times in the account's timezone ---------------------------------

export function formatDateTime(iso, tz, opts = {}) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(current, {
    timeZone: tz,
    dateStyle: opts.dateStyle ?? "medium",
    timeStyle: opts.timeStyle ?? "short",
  }).format(new Date(iso));
}

export function formatTime(date, tz) {
  return new Intl.DateTimeFormat(current, {
    timeZone: tz,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(date);
}

export function formatDay(date, tz, opts = { weekday: "short", day: "numeric", month: "short" }) {
  return new Intl.DateTimeFormat(current, { timeZone: tz, ...opts }).format(date);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}

// "2 h 05 min 09 s" / "2 ч 05 мин 09 с": how long until an instant.
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const u = current === "ru" ? { d: "д", h: "ч", m: "мин", s: "с" } : { d: "d", h: "h", m: "min", s: "s" };
  const pad = (x) => String(x).padStart(2, "0");
  if (d) return `${d} ${u.d} ${h} ${u.h} ${pad(m)} ${u.m}`;
  if (h) return `${h} ${u.h} ${pad(m)} ${u.m} ${pad(s)} ${u.s}`;
  return `${m} ${u.m} ${pad(s)} ${u.s}`;
}

// Wall-clock parts of an instant in a timezone.
export function zonedParts(date, tz) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    weekday: "short",
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type)?.value;
  const weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(get("weekday"));
  return {
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")) % 24,
    minute: Number(get("minute")),
    second: Number(get("second")),
    weekday, // 0 = Monday
  };
}

// The instant at which the wall clock of `tz` shows the given local time.
export function zonedInstant(year, month, day, hour, minute, tz) {
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const p = zonedParts(new Date(guess), tz);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    guess += wanted - shown;
  }
  return new Date(guess);
}

// Monday 00:00 of the week holding `date`, in `tz`, shifted by `weeks`.
export function weekStart(date, tz, weeks = 0) {
  const p = zonedParts(date, tz);
  const noon = new Date(Date.UTC(p.year, p.month - 1, p.day - p.weekday + 7 * weeks, 12));
  return zonedInstant(noon.getUTCFullYear(), noon.getUTCMonth() + 1, noon.getUTCDate(), 0, 0, tz);
}

// The local date (YYYY-MM-DD) of an instant in `tz`.
export function localDate(date, tz) {
  const p = zonedParts(date, tz);
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

// Local midnight `days` after the local date of `date`.
export function addLocalDays(date, tz, days) {
  const p = zonedParts(date, tz);
  const noon = new Date(Date.UTC(p.year, p.month - 1, p.day + days, 12));
  return zonedInstant(noon.getUTCFullYear(), noon.getUTCMonth() + 1, noon.getUTCDate(), 0, 0, tz);
}
