"""Fixed vocabularies of the generated data: names, user attributes, content, segments."""

from __future__ import annotations

FIRST_NAMES = (
    "Aaliyah", "Aarav", "Abigail", "Adrian", "Aiko", "Alejandro", "Amara", "Amelia", "Ana", "Andre",
    "Anika", "Arjun", "Ava", "Benjamin", "Camila", "Carlos", "Charlotte", "Chen", "Chloe", "Daniel",
    "Diego", "Elena", "Elijah", "Emma", "Ethan", "Fatima", "Felix", "Gabriel", "Grace", "Hana",
    "Hannah", "Hiroshi", "Isabella", "Ivan", "Jack", "James", "Julia", "Kai", "Karin", "Lars",
    "Layla", "Leo", "Liam", "Lucas", "Lucia", "Maya", "Mei", "Mia", "Mohammed", "Nadia",
    "Noah", "Olivia", "Omar", "Priya", "Rafael", "Ravi", "Sara", "Sofia", "Thomas", "Yuki",
)
LAST_NAMES = (
    "Adams", "Ahmed", "Alvarez", "Andersen", "Bauer", "Becker", "Brown", "Chen", "Clarke",
    "Costa", "Davis", "Dubois", "Evans", "Fischer", "Garcia", "Gupta", "Hansen", "Hernandez",
    "Ito", "Jansen", "Johnson", "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin",
    "Meyer", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "O'Brien", "Okafor", "Patel",
    "Perez", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka",
    "Taylor", "Thomas", "Walker", "Wang", "Weber", "Williams", "Wilson", "Wright", "Yamamoto",
    "Young", "Zhang", "Zimmermann", "Berg", "Ross",
)

# department -> (share of users, roles in that department)
DEPARTMENTS: dict[str, tuple[float, tuple[str, ...]]] = {
    "Sales": (0.26, ("Sales Rep", "Account Executive", "Sales Manager",
                     "Sales Operations Analyst")),
    "Customer Support": (0.20, ("Support Agent", "Support Team Lead", "Support Manager")),
    "Finance": (0.09, ("Accountant", "Financial Analyst", "Finance Manager")),
    "Human Resources": (0.07, ("HR Generalist", "Recruiter", "HR Manager")),
    "Engineering": (0.14, ("Software Engineer", "QA Engineer", "Engineering Manager")),
    "Marketing": (0.10, ("Marketing Specialist", "Content Marketer", "Marketing Manager")),
    "Operations": (0.08, ("Operations Analyst", "Operations Manager")),
    "IT": (0.06, ("IT Administrator", "Admin", "IT Manager")),
}

# region -> (share of users, countries of that region as (country code, locale, share in region))
REGIONS: dict[str, tuple[float, tuple[tuple[str, str, float], ...]]] = {
    "North America": (0.42, (("US", "en-US", 0.82), ("CA", "en-CA", 0.12), ("CA", "fr-CA", 0.06))),
    "EMEA": (0.31, (("GB", "en-GB", 0.38), ("DE", "de-DE", 0.30), ("FR", "fr-FR", 0.22),
                    ("ES", "es-ES", 0.10))),
    "APAC": (0.19, (("IN", "en-IN", 0.45), ("JP", "ja-JP", 0.30), ("AU", "en-AU", 0.25))),
    "LATAM": (0.08, (("BR", "pt-BR", 0.65), ("MX", "es-MX", 0.35))),
}

PLANS: dict[str, float] = {"Enterprise": 0.45, "Business": 0.35, "Starter": 0.20}
SEAT_SIZES: tuple[int, ...] = (5, 10, 25, 50, 100, 250, 500)
SEAT_SHARES: tuple[float, ...] = (0.10, 0.18, 0.24, 0.20, 0.14, 0.09, 0.05)
BETA_SHARE = 0.12

FLOW_NAMES = (
    "Create a new opportunity", "Submit an expense report", "Log a customer call",
    "Request time off", "Approve a purchase order", "Create a support ticket", "Escalate a case",
    "Update your profile", "Set up two-factor authentication", "Build a sales report",
    "Export a dashboard", "Add a new contact", "Import leads from CSV", "Schedule a meeting",
    "Create an invoice", "Reconcile a payment", "Onboard a new hire", "Assign a training course",
    "Configure email notifications", "Create a marketing campaign", "Launch an email sequence",
    "Merge duplicate accounts", "Close a won deal", "Forecast quarterly revenue",
    "Create a knowledge article", "Reset a user password", "Add a product to a quote",
    "Generate a quote PDF", "Submit a timesheet", "Book business travel", "Request a laptop",
    "Change a cost center", "Create a custom field", "Set up a workflow rule",
    "Share a report with your team", "Update billing details", "Cancel a subscription",
    "Renew a contract", "Archive old records", "Configure territory rules",
)
TOOLTIP_NAMES = (
    "Opportunity stage field", "Close date field", "Amount field", "Account owner field",
    "Priority picklist", "Case origin field", "Cost center field", "Approval status badge",
    "Forecast category field", "Lead source field", "Next step field", "Discount field",
    "Billing address field", "Tax ID field", "Contract term field", "Renewal date field",
    "Territory field", "Region filter", "Date range picker", "Export button", "Bulk edit toggle",
    "Saved views menu", "Notification bell", "Search bar filters", "Attachment limit hint",
)
SMART_TIP_NAMES = (
    "Required: customer email", "Check the currency before saving", "Use the company domain",
    "Receipts over 75 USD need approval", "Pick the right case category", "Avoid duplicate leads",
    "Probability is auto-calculated", "Add a meaningful subject", "Mandatory justification",
    "Select a manager approver", "Dates use your locale format", "Max 10 attachments",
    "Use the standard naming convention", "Phone numbers need a country code",
    "Project code is required for billable time",
)
BEACON_NAMES = (
    "New: pipeline board view", "New: AI email assistant", "New: mobile approvals",
    "New: dark mode", "New: quick actions menu", "New: keyboard shortcuts",
    "New: revenue insights", "New: shared inbox",
)
POPUP_NAMES = (
    "Welcome to the new workspace", "Scheduled maintenance this weekend",
    "Quarter-end closing reminders", "Security policy update", "Holiday support hours",
    "What's new this release",
)
SURVEY_NAMES = (
    "Quarterly NPS survey", "Onboarding experience survey", "Feature feedback: reports",
    "Support satisfaction pulse",
)
ARTICLE_NAMES = (
    "How to create an opportunity", "How to submit expenses", "Understanding the approval chain",
    "Managing your notifications", "Working with dashboards", "Importing data from spreadsheets",
    "Using saved views", "Keyboard shortcuts cheat sheet", "Resetting your password",
    "Setting up single sign-on", "Managing team permissions", "Creating invoices and quotes",
    "Forecasting basics", "Handling escalations", "Writing good case notes",
    "Time-off policy explained", "Travel booking guidelines", "Data retention policy",
    "Mobile app quick start", "Integrations overview", "Troubleshooting sync errors",
    "Reporting FAQ", "Billing FAQ", "Security best practices", "Release notes archive",
)
VIDEO_NAMES = (
    "Video: Product tour in 3 minutes", "Video: Building your first report",
    "Video: Pipeline management", "Video: Approvals on mobile", "Video: Case management basics",
    "Video: Expense reporting", "Video: Admin settings overview", "Video: Forecasting walkthrough",
    "Video: Dashboards deep dive", "Video: Security and 2FA",
)
# Task lists: (name, number of tasks, share of eligible users assigned, created days before today)
TASK_LISTS = (
    ("New hire onboarding", 6, 0.72, None),
    ("Sales onboarding", 5, 0.30, None),
    ("Manager essentials", 4, 0.12, None),
    ("Security & compliance training", 3, 0.40, 210),
    ("Quarterly CRM refresher", 7, 0.15, 120),
)

# Segments: (name, description, rules as (attribute, operator, value)); every operator appears.
SEGMENTS = (
    ("EMEA Sales", "Sales users in Europe, the Middle East and Africa",
     (("region", "equals", "EMEA"), ("department", "equals", "Sales"))),
    ("Non-admin users", "Everyone except administrators", (("role", "notEquals", "Admin"),)),
    ("Support teams", "Departments whose name contains Support",
     (("department", "contains", "Support"),)),
    ("English locales", "Users whose locale starts with en-", (("locale", "startsWith", "en-"),)),
    ("Canada", "Users whose locale ends with -CA", (("locale", "endsWith", "-CA"),)),
    ("Paid tiers", "Enterprise and Business plans",
     (("plan", "in", ["Enterprise", "Business"]),)),
    ("Outside North America", "Every region but North America",
     (("region", "notIn", ["North America"]),)),
    ("Beta testers", "Users enrolled in the beta programme", (("beta", "equals", True),)),
    ("Large teams", "Teams with 100 seats or more", (("seats", "in", [100, 250, 500]),)),
    ("APAC managers", "Managers in Asia-Pacific",
     (("region", "equals", "APAC"), ("role", "endsWith", "Manager"))),
    ("Engineering outside the US", "Engineers not based in the United States",
     (("department", "equals", "Engineering"), ("country", "notEquals", "US"))),
)

APP_HOSTS = {"primary": "https://app.acme.example", "secondary": "https://hr.globex.example"}
