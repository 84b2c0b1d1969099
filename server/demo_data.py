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


# The coffee chain's roadmap, drawn from the report's recommendations (one item per
# action line of method.json, by its key), in Spanish like the rest of the demo. Dates
# are counted in days from the day the demo is loaded; ``funding`` is a funding source's
# key (its Spanish name is written on the item); ``then`` are later edits (revisions),
# in order; ``commitments`` are (organization, role, note, withdrawn note or None).


@dataclass(frozen=True)
class DemoItem:
    line: str  # the action line's method key
    title: str
    description: str
    horizon: str
    phase: str
    lead: str
    partners: tuple[str, ...]
    milestones: tuple[tuple[str, int], ...]  # (text, days ahead)
    indicators: tuple[tuple[str, str, str, str], ...]  # (name, baseline, target, unit)
    budget: tuple[str, str]  # (amount, currency)
    funding: str
    gaps: tuple[str, ...]  # gap method keys
    pilot: bool = False
    then: tuple[tuple[str, object], ...] = ()  # (field, value) edits after creation
    commitments: tuple[tuple[str, str, str, str | None], ...] = ()


ROADMAP_CHAIN = "coffee"
ROADMAP: tuple[DemoItem, ...] = (
    DemoItem(
        "discussion_spaces",
        "Mesa técnica regional del café Cusco–Puno",
        "Un espacio estable donde productores, cooperativas, exportadores, gobiernos regionales y universidades "
        "acuerdan prioridades y hacen seguimiento a los compromisos, más allá de los ciclos políticos.",
        "short",
        "governance",
        "Gobierno Regional de Cusco",
        ("Gobierno Regional de Puno", "Cámara de Comercio de Cusco", "Central de Cooperativas COCLA"),
        (("Acta de constitución de la mesa firmada", 60), ("Primera sesión conjunta en Quillabamba", 120)),
        (("Sesiones realizadas al año", "0", "4", "sesiones"), ("Acuerdos con seguimiento", "0", "80", "%")),
        ("40000", "PEN"),
        "pac",
        ("leadership", "connection"),
        then=(("status", "agreed"), ("status", "under_way"), ("progress", 40)),
        commitments=(
            ("Gobierno Regional de Cusco", "lead", "Convoca y da la secretaría técnica", None),
            ("Gobierno Regional de Puno", "partner", "", None),
            ("Cámara de Comercio de Cusco", "partner", "Pone la sede de las sesiones", None),
        ),
    ),
    DemoItem(
        "intelligence",
        "Observatorio de mercados del café de Cusco y Puno",
        "Boletines de precios, mercados de destino y tendencias de cafés especiales, abiertos a toda la cadena, "
        "con datos de SUNAT, PROMPERÚ y de las propias cooperativas.",
        "short",
        "assessment",
        "Universidad Nacional de San Antonio Abad del Cusco",
        ("PROMPERÚ", "Cámara de Comercio de Cusco"),
        (("Primer boletín de precios y mercados", 90), ("Portal de datos abiertos de la cadena", 365)),
        (
            ("Boletines publicados al año", "0", "12", "boletines"),
            ("Cooperativas que lo usan", "0", "15", "cooperativas"),
        ),
        ("180000", "PEN"),
        "innovate_peru",
        ("information",),
        then=(("status", "agreed"), ("progress", 15)),
        commitments=(
            ("Universidad Nacional de San Antonio Abad del Cusco", "lead", "Equipo de economía agraria", None),
            ("PROMPERÚ", "partner", "Datos de exportación por destino", None),
        ),
    ),
    DemoItem(
        "cooperative_management",
        "Gestión profesional para las cooperativas cafetaleras",
        "Diagnóstico de gestión, estados financieros auditados y un manual de buen gobierno cooperativo, "
        "tomando como referencia el modelo cluster, para recuperar la confianza de los socios.",
        "medium",
        "governance",
        "Central de Cooperativas COCLA",
        ("Dirección Regional de Agricultura Cusco", "Cooperativa Agraria Cafetalera Valle Inambari"),
        (("Diagnóstico de gestión de 10 cooperativas", 150), ("Manual de buen gobierno aprobado en asamblea", 300)),
        (("Cooperativas con estados financieros auditados", "2", "10", "cooperativas"),),
        ("350000", "PEN"),
        "procompite",
        ("cooperatives",),
        then=(("status", "agreed"),),
        commitments=(
            ("Central de Cooperativas COCLA", "lead", "", None),
            (
                "Caja Municipal Cusco",
                "funder",
                "Línea de crédito para auditorías",
                "Lo revisará con el presupuesto del próximo año",
            ),
        ),
    ),
    DemoItem(
        "producer_training",
        "Escuelas de campo: calidad y gestión de la finca",
        "Formación práctica de productores en poscosecha, catación y costos de la finca, con técnicos locales "
        "y productores líderes como promotores.",
        "short",
        "governance",
        "Dirección Regional de Agricultura Cusco",
        ("SENATI", "Municipalidad Distrital de Echarati"),
        (("Primera promoción de 200 productores", 240),),
        (("Productores capacitados", "0", "600", "productores"), ("Rendimiento medio", "8", "15", "qq/ha")),
        ("420000", "PEN"),
        "procompite",
        ("training", "producers"),
        pilot=True,
        commitments=(("Municipalidad Distrital de Echarati", "funder", "Aporta el local y la movilidad", None),),
    ),
    DemoItem(
        "demonstration",
        "Piloto de secado y acopio compartido en Quillabamba",
        "Una planta de secado y un centro de acopio compartidos por varias cooperativas: un proyecto "
        "demostrativo para aprender a invertir juntos.",
        "medium",
        "strategic_plan",
        "Municipalidad Provincial de La Convención",
        ("Cooperativa Agraria Cafetalera Valle Inambari",),
        (("Estudio de preinversión aprobado", 180), ("Planta de secado en funcionamiento", 540)),
        (("Café pergamino seco acopiado", "0", "500", "toneladas"),),
        ("900000", "PEN"),
        "procompite",
        ("modernization", "bottlenecks"),
        pilot=True,
    ),
    DemoItem(
        "added_value",
        "Cafés especiales con origen del Valle de La Convención",
        "Un sello de origen y calidad para los cafés especiales de la zona, con protocolos de catación "
        "y compradores de especialidad, en lugar de vender café como commodity.",
        "long",
        "strategic_plan",
        "Asociación de Productores de Cafés Especiales",
        ("INDECOPI", "Universidad Nacional de Juliaca"),
        (("Expediente de denominación de origen presentado", 720),),
        (("Exportaciones de café especial", "54", "80", "millones de USD"),),
        ("250000", "USD"),
        "cooperation",
        ("culture", "bottlenecks"),
    ),
)
