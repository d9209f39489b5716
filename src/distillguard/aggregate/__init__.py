"""distillguard.aggregate"""
