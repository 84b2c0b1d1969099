"""What ``minka demo`` seeds, beyond ``server/data/method.json``.

The demo audience is Peruvian: chains, library items and workshops are in Spanish.
``method.json`` gives each gap's Spanish title but its mechanisms only in English; the
Spanish versions, and a one-line description of each gap, are here.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_EMAIL = "demo@minka.local"
# Published on purpose (bandit B105); the login page and `minka serve` warn while unchanged.
DEMO_PASSWORD = "minka-demo"  # nosec B105
DEMO_NAME = "Demo facilitator"

# Per value chain (method key): the product and a one-line description.
CHAINS: dict[str, dict[str, str]] = {
    "coffee": {
        "product": "Café",
        "description": "Café de la selva de Cusco y Puno, desde el proveedor de insumos hasta la taza.",
    },
    "camelid_fabrics": {
        "product": "Fibra de alpaca y otros camélidos",
        "description": "Fibra y tejidos de alpaca y otros camélidos andinos, desde la crianza hasta la tienda.",
    },
    "shrimp": {
        "product": "Langostino",
        "description": "Langostino de cultivo en Tumbes, desde la larva hasta el comprador final.",
    },
}


@dataclass(frozen=True)
class GapText:
    description: str
    mechanisms: tuple[str, ...]  # the method's mechanisms_en, in Spanish and in order


GAPS: dict[str, GapText] = {
    "connection": GapText(
        "Universidades, institutos y centros tecnológicos trabajan de espaldas a las empresas y productores de la cadena.",
        ("Transferencia tecnológica", "Movilidad de personal e investigadores", "Emprendimiento tecnológico"),
    ),
    "cooperatives": GapText(
        "Las cooperativas de primer y segundo grado pierden socios y capacidad por una gestión poco profesional.",
        ("Formación y capacitación", "Desarrollo de estructuras cluster", "Pasantías e intercambio de experiencias"),
    ),
    "bottlenecks": GapText(
        "Calidad, información y valor se pierden al pasar de un eslabón a otro de la cadena.",
        ("Mesas de trabajo colaborativas", "Desarrollo de estructuras cluster"),
    ),
    "modernization": GapText(
        "Equipos y prácticas poco tecnificados limitan la productividad y la calidad del producto.",
        ("Transferencia tecnológica", "Capacitación técnica", "Asistencia técnica especializada"),
    ),
    "training": GapText(
        "Faltan técnicos y gestores capacitados para acompañar a productores, cooperativas y empresas.",
        ("Actividades de formación", "Movilidad de investigadores", "Asistencia técnica"),
    ),
    "culture": GapText(
        "Predomina la venta de materia prima sin diferenciar, con poco interés por innovar y agregar valor.",
        ("Acciones de sensibilización", "Formación en gestión e innovación"),
    ),
    "information": GapText(
        "Los actores no acceden a datos de precios, mercados y tecnología, ni comparten información entre sí.",
        ("Estudios (tecnológicos, económicos, de mercado)", "Actividades de comunicación"),
    ),
    "leadership": GapText(
        "Faltan liderazgos públicos y empresariales que impulsen y sostengan la transformación de la cadena.",
        ("Mesas de trabajo conjuntas", "Capacitación en gestión"),
    ),
    "producers": GapText(
        "Los productores primarios viven en pobreza y con bajo desarrollo, lo que frena su inversión y mejora.",
        ("Plataformas de comercialización", "Cooperativas de productores"),
    ),
}


@dataclass(frozen=True)
class DemoWorkshop:
    chain: str  # method key of the value chain
    template: str  # key in server.workshops.methods.TEMPLATES
    title: str  # with the chain, what identifies the workshop on a second run
    region: str
    town: str
    days_ahead: int  # its date, counted from the day the demo is loaded


WORKSHOPS: tuple[DemoWorkshop, ...] = (
    DemoWorkshop("coffee", "diagnosis", "Diagnóstico de brechas — Cusco", "Cusco", "Quillabamba", 7),
    DemoWorkshop("coffee", "prioritization", "Priorización de líneas de acción — Puno", "Puno", "Juliaca", 14),
    DemoWorkshop("coffee", "roadmap", "Hoja de ruta del café — Cusco", "Cusco", "Cusco", 28),
    DemoWorkshop("camelid_fabrics", "diagnosis", "Diagnóstico de brechas — Puno", "Puno", "Puno", 10),
)
